#pragma once
// The selective state-space mixer of one layer (spec "mixer" block), without
// the residual add.

#include <torch/torch.h>

#include "model/config.h"
#include "model/weights.h"

namespace itera {

/// Recurrent state of one layer's mixer (Itera-Lite), or its key/value cache
/// (Transformer).
struct LayerState {
    torch::Tensor conv_tail;  ///< (B, K-1, di): the last K-1 conv inputs
    torch::Tensor h;          ///< (B, di, N): the scan state
    torch::Tensor k, v;       ///< (B, H, S, hd): the last S <= W-1 keys (rotated) and values
};

struct MixerImpl : torch::nn::Module {
    explicit MixerImpl(const ModelConfig& config);

    /// x: (B, T, d) residual stream → (B, T, d) mixer output. With `state`, the
    /// sequence continues from it and the state is advanced (no autograd).
    /// `gated`, when given, receives y ⊙ silu(z) (B, T, di), out_proj's input
    /// (pruning measures each channel's activation with it).
    torch::Tensor forward(const torch::Tensor& x, LayerState* state = nullptr,
                          torch::Tensor* gated = nullptr);

    LayerState initial_state(std::int64_t batch) const;

    ModelConfig config;
    Weights norm{nullptr}, in_proj{nullptr}, conv1d{nullptr}, x_proj{nullptr}, dt_proj{nullptr},
        out_proj{nullptr};
    torch::Tensor A_log;  ///< (di, N)
    torch::Tensor D;      ///< (di)
};
TORCH_MODULE(Mixer);

}  // namespace itera
