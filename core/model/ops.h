#pragma once
// Differentiable LibTorch operations backed by the hand-written kernels:
// the selective scan, the causal depthwise conv + SiLU, and a timed linear.

#include <torch/torch.h>

namespace itera {

/// y = scan(u, softplus(delta + delta_bias), A = -exp(A_log), Bm, Cm) + D ⊙ u,
/// times silu(z) when z is defined (the mixer's gate, fused into the kernel).
/// u, delta, z: (B, T, di); Bm, Cm: (B, T, N); A_log: (di, N); delta_bias, D: (di).
/// Returns (B, T, di). Differentiable in every input; starts from h = 0.
torch::Tensor selective_scan(const torch::Tensor& u, const torch::Tensor& delta,
                             const torch::Tensor& delta_bias, const torch::Tensor& A_log,
                             const torch::Tensor& Bm, const torch::Tensor& Cm,
                             const torch::Tensor& D, const torch::Tensor& z = {});

/// The same scan starting from `h` (B, di, N), which is replaced by the final
/// state. For decoding and chunked prefill: not differentiable.
torch::Tensor selective_scan_stateful(const torch::Tensor& u, const torch::Tensor& delta,
                                      const torch::Tensor& delta_bias, const torch::Tensor& A_log,
                                      const torch::Tensor& Bm, const torch::Tensor& Cm,
                                      const torch::Tensor& D, torch::Tensor& h,
                                      const torch::Tensor& z = {});

/// silu(causal depthwise conv over T of x): x (B, T, C) (rows may be strided),
/// weight (C, 1, K), bias (C). Returns dense (B, T, C). Differentiable.
torch::Tensor causal_conv_silu(const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias);

/// The same with the K-1 previous inputs in `tail` (B, K-1, C), which is
/// replaced by the last K-1 inputs seen. Not differentiable.
torch::Tensor causal_conv_silu_stateful(const torch::Tensor& x, const torch::Tensor& weight,
                                        const torch::Tensor& bias, torch::Tensor& tail);

/// x · weightᵀ over the last dimension; GEMM time is accounted to OpKind::Gemm.
/// Under a Bf16Gemms scope its products (forward and backward) take BF16
/// inputs and give FP32 results.
torch::Tensor linear_map(const torch::Tensor& x, const torch::Tensor& weight);

/// While alive, linear_map and the tied head's products on this thread run
/// with BF16 inputs (mixed-precision training: weights, gradients and the
/// optimizer stay FP32). The choice is fixed per product at its forward, so
/// the backward follows it even after the scope ends.
class Bf16Gemms {
public:
    explicit Bf16Gemms(bool on = true);
    ~Bf16Gemms();
    Bf16Gemms(const Bf16Gemms&) = delete;
    Bf16Gemms& operator=(const Bf16Gemms&) = delete;
    /// Whether products on this thread use BF16 now.
    static bool active();

private:
    bool previous_;
};

/// Mean cross-entropy of rows of `logits` (M, V) against `targets` (M), rows
/// whose target is `ignore_index` excluded; fused forward/backward kernels.
/// Throws itera::Error for out-of-vocabulary targets or an all-ignored batch.
torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                            std::int64_t ignore_index);

/// Number of targets not equal to `ignore_index`; throws itera::Error if there
/// are none or one lies outside [0, V).
std::int64_t count_targets(const torch::Tensor& targets, std::int64_t V, std::int64_t ignore_index);

/// Mean CE of logits = x · Wᵀ (the tied head) against `targets`, computed in
/// cache-sized row chunks without materialising the logits. x: (M, d), W: (V, d).
/// Gradients for x and W are produced during the forward when grad mode is on.
torch::Tensor tied_head_cross_entropy(const torch::Tensor& x, const torch::Tensor& W,
                                      const torch::Tensor& targets, std::int64_t ignore_index);

/// Splits the last dimension into contiguous tensors of the given sizes.
std::vector<torch::Tensor> split_last(const torch::Tensor& x,
                                      const std::vector<std::int64_t>& sizes);

}  // namespace itera
