#include "model/weights.h"

namespace itera {

WeightsImpl::WeightsImpl(std::vector<std::int64_t> weight_shape,
                         std::vector<std::int64_t> bias_shape) {
    weight = register_parameter("weight", torch::zeros(weight_shape));
    if (!bias_shape.empty()) bias = register_parameter("bias", torch::zeros(bias_shape));
}

torch::Tensor layer_norm(const torch::Tensor& x, const Weights& norm, double eps) {
    return torch::layer_norm(x, {x.size(-1)}, norm->weight, norm->bias, eps);
}

}  // namespace itera
