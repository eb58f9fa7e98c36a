#pragma once
// The per-token pieces of the recurrent step that are not matrix products,
// written as plain loops over contiguous floats that the compiler vectorises
// (built -O3 for several x86-64 levels). Each works on one sequence.

#include <cstdint>

namespace itera::decode {

/// out = LayerNorm(x) over n values with weight w, bias b (biased variance).
void layer_norm(const float* x, std::int64_t n, const float* w, const float* b, float eps,
                float* out);

/// One step of the causal depthwise conv + SiLU: out[c] = silu(bias[c] +
/// Σ_{j<K-1} w[j, c] · tail[j, c] + w[K-1, c] · in[c]) with the kernel stored
/// transposed, (K, C); then the tail (K-1, C), oldest first, drops its oldest
/// row and appends `in`.
void conv_silu_step(const float* in, float* tail, const float* w, const float* bias,
                    std::int64_t channels, std::int64_t K, float* out);

/// One step of the selective scan for one sequence and the channels
/// [0, n) of the pointers given, gated:
///   dt = softplus(dt_raw + dt_bias); h = exp(dt·A) ⊙ h + dt·B·xs;
///   y = (h·C + D ⊙ xs) ⊙ silu(z).
/// Vectorised over channels: h and A are stored transposed, (N, stride), A
/// already negative; B, C are (N). `dt` holds dt_raw on entry and
/// softplus(dt_raw + dt_bias) on return. Threads split the channels.
void scan_step(const float* xs, float* dt, const float* dt_bias, const float* A, const float* B,
               const float* C, const float* D, const float* z, float* h, std::int64_t n,
               std::int64_t N, std::int64_t stride, float* y);

/// Rotates pairs (j, j + half) of x by the angles whose cosines and sines are
/// given (half each): the rotary embedding of docs/spec/transformer.md.
void rotate_pairs(float* x, const float* cos, const float* sin, std::int64_t half);

/// One head of attention for one query over n cached positions. Keys are
/// stored transposed, hd rows of `key_stride` floats (row i holds dimension i
/// of every position), so the scores vectorise over positions; values are n
/// rows of `value_stride` floats (this head's hd at their start).
///   out (hd) = Σ_j softmax_j(q·k_j · scale) v_j.
/// `scores` holds n floats of scratch.
void attend(const float* q, const float* keys_t, std::int64_t key_stride, const float* values,
            std::int64_t value_stride, std::int64_t n, std::int64_t hd, float scale, float* scores,
            float* out);

/// x = gelu(x) (exact erf form) over n values.
void gelu_inplace(float* x, std::int64_t n);

/// x += s · y over n values.
void add_scaled(float* x, const float* y, float s, std::int64_t n);

/// Index of the largest of n values (the lowest index among equals).
std::int64_t argmax(const float* x, std::int64_t n);

/// Σ x[i] with eight independent vector accumulators: a pure streaming read,
/// used to measure how fast one core reads a working set of n floats.
float stream_sum(const float* x, std::int64_t n);

/// KL(softmax(a) ‖ softmax(b)) over n logits, given each side's log-sum-exp.
float kl_divergence(const float* a, float lse_a, const float* b, float lse_b, std::int64_t n);

/// log Σ exp(x[i]) over n values, computed stably (max subtracted first).
float log_sum_exp(const float* x, std::int64_t n);

}  // namespace itera::decode
