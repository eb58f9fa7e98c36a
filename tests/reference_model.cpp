#include "reference_model.h"

#include <cmath>

namespace itera::testing {
namespace {

using torch::Tensor;

Tensor lin(const Tensor& x, const Tensor& w) {
    return torch::matmul(x, w.t());
}

Tensor ln(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
    auto mean = x.mean(-1, true);
    auto var = (x - mean).pow(2).mean(-1, true);
    return (x - mean) / torch::sqrt(var + eps) * w + b;
}

Tensor gelu_erf(const Tensor& x) {
    return 0.5 * x * (1.0 + torch::erf(x / std::sqrt(2.0)));
}

Tensor ref_silu(const Tensor& x) {
    return x * torch::sigmoid(x);
}

Tensor ref_softplus(const Tensor& x) {
    return torch::log1p(torch::exp(x));
}

}  // namespace

Tensor reference_scan(const Tensor& u, const Tensor& dt, const Tensor& A, const Tensor& Bm,
                      const Tensor& Cm, const Tensor& D) {
    const auto B = u.size(0), T = u.size(1), di = u.size(2), N = A.size(1);
    auto h = torch::zeros({B, di, N}, u.options());
    std::vector<Tensor> ys;
    for (int64_t t = 0; t < T; ++t) {
        auto dt_t = dt.select(1, t);  // (B, di)
        auto u_t = u.select(1, t);    // (B, di)
        auto B_t = Bm.select(1, t);   // (B, N)
        auto C_t = Cm.select(1, t);   // (B, N)
        h = torch::exp(dt_t.unsqueeze(2) * A) * h +
            dt_t.unsqueeze(2) * B_t.unsqueeze(1) * u_t.unsqueeze(2);
        ys.push_back((h * C_t.unsqueeze(1)).sum(2) + D * u_t);
    }
    return torch::stack(ys, 1);
}

Tensor reference_logits(const ModelConfig& config, const ParamMap& p, const Tensor& tokens) {
    auto c = config.resolved();
    const auto di = c.inner_size(), N = c.ssm_state_size, R = c.ssm_dt_rank, K = c.ssm_conv_kernel;
    const auto T = tokens.size(1);
    const auto& E = p.at("embed.weight");
    auto x = E.index_select(0, tokens.reshape({-1})).view({tokens.size(0), T, -1});
    for (int64_t i = 0; i < c.num_layers; ++i) {
        auto m = "layers." + std::to_string(i) + ".mixer.";
        auto u = ln(x, p.at(m + "norm.weight"), p.at(m + "norm.bias"), c.norm_eps);
        auto xz = lin(u, p.at(m + "in_proj.weight"));
        auto xs = xz.narrow(2, 0, di), z = xz.narrow(2, di, di);
        // Causal depthwise conv, written out per tap.
        auto w = p.at(m + "conv1d.weight");
        auto conv = p.at(m + "conv1d.bias").view({1, 1, di}).expand_as(xs).clone();
        for (int64_t j = 0; j < K; ++j) {
            auto shift = K - 1 - j;  // xs[t - shift]
            if (shift >= T) continue;
            auto shifted = torch::zeros_like(xs);
            shifted.narrow(1, shift, T - shift).copy_(xs.narrow(1, 0, T - shift));
            conv = conv + w.select(2, j).view({1, 1, di}) * shifted;
        }
        xs = ref_silu(conv);
        auto dbc = lin(xs, p.at(m + "x_proj.weight"));
        auto dt_low = dbc.narrow(2, 0, R), Bt = dbc.narrow(2, R, N), Ct = dbc.narrow(2, R + N, N);
        auto dt = ref_softplus(lin(dt_low, p.at(m + "dt_proj.weight")) + p.at(m + "dt_proj.bias"));
        auto A = -torch::exp(p.at(m + "A_log"));
        auto y = reference_scan(xs, dt, A, Bt, Ct, p.at(m + "D"));
        y = y * ref_silu(z);
        x = x + lin(y, p.at(m + "out_proj.weight"));

        auto f = "layers." + std::to_string(i) + ".ffn.";
        auto v = ln(x, p.at(f + "norm.weight"), p.at(f + "norm.bias"), c.norm_eps);
        if (!c.is_moe_layer(i)) {
            x = x + lin(gelu_erf(lin(v, p.at(f + "w1.weight"))), p.at(f + "w2.weight"));
            continue;
        }
        // MoE, one token at a time.
        auto flat = v.reshape({-1, c.hidden_size});
        auto out = torch::zeros_like(flat);
        for (int64_t tok = 0; tok < flat.size(0); ++tok) {
            auto g = lin(flat[tok].unsqueeze(0), p.at(f + "router.weight")).squeeze(0);  // (E)
            std::vector<int64_t> chosen;
            std::vector<bool> used(static_cast<size_t>(c.num_experts), false);
            for (int64_t s = 0; s < c.top_k_experts; ++s) {
                int64_t best = -1;
                for (int64_t e = 0; e < c.num_experts; ++e)
                    if (!used[e] && (best < 0 || g[e].item<double>() > g[best].item<double>()))
                        best = e;
                used[best] = true;
                chosen.push_back(best);
            }
            auto idx = torch::tensor(chosen, torch::kLong);
            auto weights = torch::softmax(g.index_select(0, idx), 0);
            for (size_t s = 0; s < chosen.size(); ++s) {
                auto e = f + "experts." + std::to_string(chosen[s]) + ".";
                auto y = lin(gelu_erf(lin(flat[tok].unsqueeze(0), p.at(e + "w1.weight"))),
                             p.at(e + "w2.weight"));
                out[tok] += weights[static_cast<int64_t>(s)] * y.squeeze(0);
            }
        }
        x = x + out.view(x.sizes());
    }
    x = ln(x, p.at("norm_f.weight"), p.at("norm_f.bias"), c.norm_eps);
    return lin(x, E);
}

}  // namespace itera::testing
