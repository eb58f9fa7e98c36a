#pragma once
// The feed-forward sublayer: dense on most layers, a top-k Mixture-of-Experts
// on the spec's `moe_layers`. Both include their LayerNorm, not the residual.

#include <torch/torch.h>

#include <vector>

#include "model/config.h"
#include "model/weights.h"

namespace itera {

struct FfnOutput {
    torch::Tensor out;          ///< (B, T, d)
    torch::Tensor aux_loss;     ///< scalar Switch load-balancing term (undefined for dense)
    torch::Tensor expert_load;  ///< (E) fraction of (token, slot) assignments per expert
};

struct FfnBase : torch::nn::Module {
    virtual FfnOutput forward(const torch::Tensor& x) = 0;
};

struct DenseFfn : FfnBase {
    explicit DenseFfn(const ModelConfig& config);
    FfnOutput forward(const torch::Tensor& x) override;
    ModelConfig config;
    Weights norm{nullptr}, w1{nullptr}, w2{nullptr};
};

struct Expert : torch::nn::Module {
    Expert(std::int64_t d, std::int64_t f);
    Weights w1{nullptr}, w2{nullptr};
};

/// Top-k routing, batched per expert: the tokens routed to an expert are
/// gathered, run through it as one GEMM pair and scattered back.
struct MoeFfn : FfnBase {
    explicit MoeFfn(const ModelConfig& config);
    FfnOutput forward(const torch::Tensor& x) override;
    ModelConfig config;
    Weights norm{nullptr}, router{nullptr};
    std::vector<std::shared_ptr<Expert>> experts;
};

/// The k largest entries of each row of `logits` (M, E), largest first; ties
/// go to the lower expert index (the spec's rule; torch::topk leaves ties
/// unspecified). Returns int64 (M, k).
torch::Tensor top_k_experts(const torch::Tensor& logits, std::int64_t k);

}  // namespace itera
