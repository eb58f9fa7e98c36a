#pragma once
// Causal depthwise convolution over time fused with SiLU, on (B, T, C) rows:
//   out[t, c] = silu(bias[c] + Σ_j w[c, j] · x[t - K + 1 + j, c])
// with zeros (or a carried tail of the previous K-1 inputs) before t = 0.
// Works on the (B, T, C) layout directly, so no transposes are needed.

#include <cstdint>

namespace itera::kernels {

struct ConvParams {
    std::int64_t batch = 0, length = 0, channels = 0, kernel = 0;  // B, T, C, K
    const float* x = nullptr;       ///< (B, T, row_stride): channels are the first C
    std::int64_t x_row_stride = 0;  ///< elements between consecutive (b, t) rows of x
    const float* w_t = nullptr;     ///< (K, C): conv1d.weight (C, 1, K) transposed
    const float* bias = nullptr;    ///< (C)
    const float* tail = nullptr;    ///< (B, K-1, C) inputs before t = 0, or null for zeros
};

/// out: (B, T, C) dense.
void conv_silu_forward(const ConvParams& p, float* out);

/// Backward with a zero tail. dx: (B, T, C) dense; dw_part: (B, K, C) and
/// dbias_part: (B, C) per-batch partial sums, reduced by the caller.
void conv_silu_backward(const ConvParams& p, const float* dout, float* dx, float* dw_part,
                        float* dbias_part);

}  // namespace itera::kernels
