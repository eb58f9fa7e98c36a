#pragma once
// The Transformer's attention sublayer (docs/spec/transformer.md): LayerNorm,
// one projection to queries, keys and values, the rotary position embedding
// on queries and keys, causal multi-head attention over a window of
// `context_length` tokens, the output projection; not the residual add.

#include <torch/torch.h>

#include "model/config.h"
#include "model/mixer.h"
#include "model/weights.h"

namespace itera {

struct AttentionImpl : torch::nn::Module {
    explicit AttentionImpl(const ModelConfig& config);

    /// x: (B, T, d) residual stream → (B, T, d). With `state` the sequence
    /// continues after state->k/v (positions from `position`) and the cache is
    /// advanced and trimmed to the last W-1 entries (no autograd).
    torch::Tensor forward(const torch::Tensor& x, LayerState* state = nullptr,
                          std::int64_t position = 0);

    LayerState initial_state(std::int64_t batch) const;

    ModelConfig config;
    Weights norm{nullptr}, qkv_proj{nullptr}, out_proj{nullptr};
};
TORCH_MODULE(Attention);

/// x (B, H, T, hd) with each head's vector rotated for positions first ..
/// first+T-1: pairs (j, j + hd/2) by the angle p · theta^(-2j/hd).
torch::Tensor rotary_embedding(const torch::Tensor& x, std::int64_t first, double theta);

/// Causal attention over a window: q (B, H, Tq, hd) at positions q0 .. q0+Tq-1,
/// k and v (B, H, Tk, hd) at k0 .. k0+Tk-1. Query position p sees keys at
/// positions p-W+1 .. p. softmax(q·kᵀ / sqrt(hd)) · v → (B, H, Tq, hd).
/// Differentiable (its own backward, timed as OpKind::Attention).
torch::Tensor windowed_attention(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, std::int64_t q0, std::int64_t k0,
                                 std::int64_t window);

}  // namespace itera
