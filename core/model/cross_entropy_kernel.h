#pragma once
// Fused softmax cross-entropy over rows of logits: one pass for the forward
// (log-sum-exp per row), one pass for the backward (softmax − one-hot), instead
// of log_softmax + nll_loss + their two backward passes over (M, V).

#include <cstdint>

namespace itera::kernels {

/// logits: (M, V) dense rows; targets: (M); rows whose target equals
/// `ignore_index` contribute nothing. Writes lse (M) and per-row loss (M, 0 for
/// ignored rows). Targets must already be validated.
void cross_entropy_forward(const float* logits, std::int64_t M, std::int64_t V,
                           const std::int64_t* targets, std::int64_t ignore_index, float* lse,
                           float* row_loss);

/// grad (M, V) = scale · (softmax(logits) − onehot(target)); zero for ignored rows.
void cross_entropy_backward(const float* logits, std::int64_t M, std::int64_t V,
                            const std::int64_t* targets, std::int64_t ignore_index,
                            const float* lse, float scale, float* grad);

}  // namespace itera::kernels
