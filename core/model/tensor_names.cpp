#include "model/tensor_names.h"

#include "model/config.h"

namespace itera {

std::int64_t TensorSpec::numel() const {
    std::int64_t n = 1;
    for (auto s : shape) n *= s;
    return n;
}

namespace {

/// docs/spec/transformer.md's table.
std::vector<TensorSpec> transformer_tensors(const ModelConfig& c) {
    const std::int64_t V = c.vocab_size, d = c.hidden_size, F = c.expert_size;
    std::vector<TensorSpec> out;
    out.push_back({"embed.weight", {V, d}});
    for (std::int64_t i = 0; i < c.num_layers; ++i) {
        auto a = "layers." + std::to_string(i) + ".attn.";
        out.push_back({a + "norm.weight", {d}});
        out.push_back({a + "norm.bias", {d}});
        out.push_back({a + "qkv_proj.weight", {3 * d, d}});
        out.push_back({a + "out_proj.weight", {d, d}});
        auto f = "layers." + std::to_string(i) + ".ffn.";
        out.push_back({f + "norm.weight", {d}});
        out.push_back({f + "norm.bias", {d}});
        out.push_back({f + "w1.weight", {F, d}});
        out.push_back({f + "w2.weight", {d, F}});
    }
    out.push_back({"norm_f.weight", {d}});
    out.push_back({"norm_f.bias", {d}});
    return out;
}

}  // namespace

std::vector<TensorSpec> spec_tensors(const ModelConfig& config) {
    auto c = config.resolved();
    if (c.is_transformer()) return transformer_tensors(c);
    const std::int64_t V = c.vocab_size, d = c.hidden_size, di = c.inner_size();
    const std::int64_t N = c.ssm_state_size, K = c.ssm_conv_kernel, R = c.ssm_dt_rank;
    const std::int64_t E = c.num_experts, F = c.expert_size;
    std::vector<TensorSpec> out;
    out.push_back({"embed.weight", {V, d}});
    for (std::int64_t i = 0; i < c.num_layers; ++i) {
        auto m = "layers." + std::to_string(i) + ".mixer.";
        out.push_back({m + "norm.weight", {d}});
        out.push_back({m + "norm.bias", {d}});
        out.push_back({m + "in_proj.weight", {2 * di, d}});
        out.push_back({m + "conv1d.weight", {di, 1, K}});
        out.push_back({m + "conv1d.bias", {di}});
        out.push_back({m + "x_proj.weight", {R + 2 * N, di}});
        out.push_back({m + "dt_proj.weight", {di, R}});
        out.push_back({m + "dt_proj.bias", {di}});
        out.push_back({m + "A_log", {di, N}});
        out.push_back({m + "D", {di}});
        out.push_back({m + "out_proj.weight", {d, di}});
        auto f = "layers." + std::to_string(i) + ".ffn.";
        out.push_back({f + "norm.weight", {d}});
        out.push_back({f + "norm.bias", {d}});
        if (c.is_moe_layer(i)) {
            out.push_back({f + "router.weight", {E, d}});
            for (std::int64_t e = 0; e < E; ++e) {
                auto x = f + "experts." + std::to_string(e) + ".";
                out.push_back({x + "w1.weight", {F, d}});
                out.push_back({x + "w2.weight", {d, F}});
            }
        } else {
            out.push_back({f + "w1.weight", {F, d}});
            out.push_back({f + "w2.weight", {d, F}});
        }
    }
    out.push_back({"norm_f.weight", {d}});
    out.push_back({"norm_f.bias", {d}});
    return out;
}

std::int64_t parameter_count(const ModelConfig& config) {
    std::int64_t n = 0;
    for (const auto& t : spec_tensors(config)) n += t.numel();
    return n;
}

std::int64_t active_parameter_count(const ModelConfig& config) {
    auto c = config.resolved();
    std::int64_t expert = 2 * c.expert_size * c.hidden_size;
    std::int64_t inactive =
        static_cast<std::int64_t>(c.moe_layers.size()) * (c.num_experts - c.top_k_experts) * expert;
    return parameter_count(c) - inactive;
}

}  // namespace itera
