#pragma once
// One fused pass of AdamW over a float buffer: read p, g, m, v once, write p,
// m, v once (LibTorch's optimizer makes ~8 passes per parameter).

#include <cstdint>

namespace itera::kernels {

struct AdamWStep {
    float lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
    float grad_scale = 1;        ///< multiplies g (gradient clipping folded in)
    float bias_correction1 = 1;  ///< 1 - beta1^t
    float bias_correction2 = 1;  ///< 1 - beta2^t
};

void adamw_update(float* p, const float* g, float* m, float* v, std::int64_t n, const AdamWStep& s);

/// Σ g² in double, reproducible (fixed blocking, fixed reduction order).
double sum_of_squares(const float* g, std::int64_t n);

}  // namespace itera::kernels
