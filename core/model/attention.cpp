#include "model/attention.h"

#include <algorithm>

#include "model/ops.h"

namespace itera {

AttentionImpl::AttentionImpl(const ModelConfig& cfg) : config(cfg.resolved()) {
    const auto d = config.hidden_size;
    norm = register_module("norm",
                           Weights(std::vector<std::int64_t>{d}, std::vector<std::int64_t>{d}));
    qkv_proj = register_module("qkv_proj", Weights(std::vector<std::int64_t>{3 * d, d}));
    out_proj = register_module("out_proj", Weights(std::vector<std::int64_t>{d, d}));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, LayerState* state,
                                     std::int64_t position) {
    const auto B = x.size(0), T = x.size(1), d = config.hidden_size;
    const auto H = config.num_heads, hd = config.head_size(), W = config.context_length;
    auto u = layer_norm(x, norm, config.norm_eps);
    auto qkv = linear_map(u, qkv_proj->weight);  // (B, T, 3d): q, k, v
    auto heads = [&](std::int64_t part) {        // → (B, H, T, hd)
        return qkv.narrow(-1, part * d, d).reshape({B, T, H, hd}).transpose(1, 2);
    };
    auto q = rotary_embedding(heads(0), position, config.rope_theta);
    auto k = rotary_embedding(heads(1), position, config.rope_theta);
    auto v = heads(2).contiguous();
    torch::Tensor o;
    if (state) {
        const auto cached = state->k.size(2);
        auto keys = torch::cat({state->k, k}, 2), values = torch::cat({state->v, v}, 2);
        o = windowed_attention(q, keys, values, position, position - cached, W);
        const auto keep = std::min<std::int64_t>(W - 1, keys.size(2));
        state->k = keys.narrow(2, keys.size(2) - keep, keep).contiguous();
        state->v = values.narrow(2, values.size(2) - keep, keep).contiguous();
    } else {
        o = windowed_attention(q, k, v, position, position, W);
    }
    return linear_map(o.transpose(1, 2).reshape({B, T, d}), out_proj->weight);
}

LayerState AttentionImpl::initial_state(std::int64_t batch) const {
    LayerState s;
    s.k = torch::zeros({batch, config.num_heads, 0, config.head_size()});
    s.v = torch::zeros({batch, config.num_heads, 0, config.head_size()});
    return s;
}

}  // namespace itera
