#include "model/ffn.h"

#include "model/ops.h"

namespace itera {
namespace {

std::vector<std::int64_t> dims(std::initializer_list<std::int64_t> v) {
    return v;
}

torch::Tensor mlp(const torch::Tensor& u, const Weights& w1, const Weights& w2) {
    return linear_map(torch::gelu(linear_map(u, w1->weight)), w2->weight);  // exact (erf) GELU
}

}  // namespace

DenseFfn::DenseFfn(const ModelConfig& cfg) : config(cfg.resolved()) {
    const auto d = config.hidden_size, F = config.expert_size;
    norm = register_module("norm", Weights(dims({d}), dims({d})));
    w1 = register_module("w1", Weights(dims({F, d})));
    w2 = register_module("w2", Weights(dims({d, F})));
}

FfnOutput DenseFfn::forward(const torch::Tensor& x) {
    return {mlp(layer_norm(x, norm, config.norm_eps), w1, w2), {}, {}};
}

Expert::Expert(std::int64_t d, std::int64_t f) {
    w1 = register_module("w1", Weights(dims({f, d})));
    w2 = register_module("w2", Weights(dims({d, f})));
}

MoeFfn::MoeFfn(const ModelConfig& cfg) : config(cfg.resolved()) {
    const auto d = config.hidden_size, F = config.expert_size, E = config.num_experts;
    norm = register_module("norm", Weights(dims({d}), dims({d})));
    router = register_module("router", Weights(dims({E, d})));
    auto list = register_module("experts", torch::nn::ModuleList());
    for (std::int64_t e = 0; e < E; ++e) {
        experts.push_back(std::make_shared<Expert>(d, F));
        list->push_back(experts.back());
    }
}

torch::Tensor top_k_experts(const torch::Tensor& logits, std::int64_t k) {
    auto l = logits.detach().to(torch::kFloat).contiguous();
    const auto M = l.size(0), E = l.size(1);
    auto idx = torch::empty({M, k}, torch::kLong);
    const float* p = l.data_ptr<float>();
    auto* out = idx.data_ptr<std::int64_t>();
    std::vector<char> taken(static_cast<std::size_t>(E));
    for (std::int64_t m = 0; m < M; ++m) {
        const float* row = p + m * E;
        std::fill(taken.begin(), taken.end(), 0);
        for (std::int64_t s = 0; s < k; ++s) {
            std::int64_t best = -1;
            for (std::int64_t e = 0; e < E; ++e) {
                if (taken[e]) continue;
                // Strict '>' keeps the lower index on ties; NaN never wins but
                // a slot is still filled.
                if (best < 0 || row[e] > row[best]) best = e;
            }
            taken[best] = 1;
            out[m * k + s] = best;
        }
    }
    return idx;
}

FfnOutput MoeFfn::forward(const torch::Tensor& x) {
    const auto d = config.hidden_size, E = config.num_experts, k = config.top_k_experts;
    auto u = layer_norm(x, norm, config.norm_eps).reshape({-1, d});  // (M, d)
    const auto M = u.size(0);
    auto logits = linear_map(u, router->weight);            // (M, E)
    auto top = top_k_experts(logits, k);                    // (M, k)
    auto gates = torch::softmax(logits.gather(1, top), 1);  // (M, k)

    // Group (token, slot) assignments by expert in one pass.
    std::vector<std::vector<std::int64_t>> tokens(E), flat(E);
    const auto* t = top.data_ptr<std::int64_t>();
    for (std::int64_t m = 0; m < M; ++m)
        for (std::int64_t s = 0; s < k; ++s) {
            tokens[t[m * k + s]].push_back(m);
            flat[t[m * k + s]].push_back(m * k + s);
        }

    auto out = torch::zeros_like(u);
    auto gates_flat = gates.reshape({-1});  // (M·k)
    std::vector<float> counts(static_cast<std::size_t>(E));
    for (std::int64_t e = 0; e < E; ++e) {
        counts[e] = static_cast<float>(tokens[e].size());
        if (tokens[e].empty()) continue;
        auto idx = torch::tensor(tokens[e], torch::kLong);
        auto gidx = torch::tensor(flat[e], torch::kLong);
        auto ye = mlp(u.index_select(0, idx), experts[e]->w1, experts[e]->w2);  // (n_e, d)
        out = out.index_add(0, idx, ye * gates_flat.index_select(0, gidx).unsqueeze(1));
    }
    // Switch load balancing: E · Σ_e f_e · P_e, f from the hard assignments.
    auto load = torch::tensor(counts) / static_cast<float>(M * k);
    auto mean_prob = torch::softmax(logits, 1).mean(0);  // (E)
    auto aux = (load * mean_prob).sum() * static_cast<double>(E);
    return {out.view(x.sizes()), aux, load};
}

}  // namespace itera
