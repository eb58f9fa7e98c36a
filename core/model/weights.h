#pragma once
// A leaf module holding a `weight` and optionally a `bias` parameter, so that
// registered names read exactly as the spec's tensor names
// (e.g. `layers.0.mixer.in_proj.weight`).

#include <torch/torch.h>

#include <vector>

namespace itera {

struct WeightsImpl : torch::nn::Module {
    WeightsImpl(std::vector<std::int64_t> weight_shape, std::vector<std::int64_t> bias_shape = {});
    torch::Tensor weight;
    torch::Tensor bias;  ///< undefined when the spec has no bias
};
TORCH_MODULE(Weights);

/// LayerNorm over the last dimension with a Weights module's weight and bias.
torch::Tensor layer_norm(const torch::Tensor& x, const Weights& norm, double eps);

}  // namespace itera
