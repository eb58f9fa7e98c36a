#pragma once
// The selective scan of the spec (docs/spec/model.md) on raw float buffers, forward and backward.
// Kept free of LibTorch headers: the autograd wrapper is in selective_scan.cpp.
//
//   dt_t = softplus(delta_t + delta_bias)                      per channel c
//   h_t  = exp(dt_t A) ⊙ h_{t-1} + dt_t B_t u_t                (C, N) state
//   y_t  = h_t · C_t + D ⊙ u_t
//   out  = y ⊙ silu(z)                                          (when z is given)
//
// Work is split into (batch, block of 32 channels) tasks run in parallel; the
// inner loop runs over the channels of a block so it vectorises at any N.

#include <cstdint>

namespace itera::kernels {

/// Inputs of one scan. All buffers are dense, row-major, float32.
struct ScanParams {
    std::int64_t batch = 0, length = 0, channels = 0, state = 0;  // B, T, C (= di), N
    const float* u = nullptr;           ///< (B, T, C) scan input (after conv + silu)
    const float* delta = nullptr;       ///< (B, T, C) step size before bias and softplus
    const float* delta_bias = nullptr;  ///< (C)
    const float* A_t = nullptr;         ///< (N, C) A = -exp(A_log), transposed
    const float* Bm = nullptr;          ///< (B, T, N)
    const float* Cm = nullptr;          ///< (B, T, N)
    const float* D = nullptr;           ///< (C)
    const float* h0 = nullptr;          ///< (B, C, N) initial state, or null for zeros
    const float* z = nullptr;           ///< (B, T, C) gate, or null for an ungated output
};

/// Channels per task; partial-gradient buffers are laid out per block.
constexpr std::int64_t kScanChannelBlock = 32;
inline std::int64_t scan_channel_blocks(std::int64_t channels) {
    return (channels + kScanChannelBlock - 1) / kScanChannelBlock;
}

/// y: (B, T, C). h_last: (B, C, N) final state, or null.
void scan_forward(const ScanParams& p, float* y, float* h_last);

/// Gradient buffers of `scan_backward`. Partial sums are reduced by the caller.
struct ScanGrads {
    float* du = nullptr;          ///< (B, T, C)
    float* ddelta = nullptr;      ///< (B, T, C) gradient w.r.t. `delta` (before softplus)
    float* dA_t_part = nullptr;   ///< (B, N, C) per-batch partial of dL/dA (transposed)
    float* dB_part = nullptr;     ///< (blocks, B, T, N) per-channel-block partial
    float* dC_part = nullptr;     ///< (blocks, B, T, N)
    float* dD_part = nullptr;     ///< (B, C)
    float* dbias_part = nullptr;  ///< (B, C)
    float* dz = nullptr;          ///< (B, T, C) when the scan is gated
};

/// Backward of `scan_forward` with h0 = 0 (training never carries state).
/// The forward is recomputed per task, so nothing but the inputs is saved.
void scan_backward(const ScanParams& p, const float* dy, const ScanGrads& g);

}  // namespace itera::kernels
