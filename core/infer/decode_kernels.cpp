#include "infer/decode_kernels.h"

#include <cmath>
#include <cstring>

#include "model/simd_math.h"
#include "util/cpu_dispatch.h"

namespace itera::decode {

ITERA_KERNEL_CLONES
void layer_norm(const float* x, std::int64_t n, const float* w, const float* b, float eps,
                float* out) {
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (std::int64_t i = 0; i < n; ++i) sum += x[i];
    const float mean = sum / static_cast<float>(n);
    float sq = 0;
#pragma omp simd reduction(+ : sq)
    for (std::int64_t i = 0; i < n; ++i) sq += (x[i] - mean) * (x[i] - mean);
    const float rstd = 1.0f / std::sqrt(sq / static_cast<float>(n) + eps);
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) out[i] = (x[i] - mean) * rstd * w[i] + b[i];
}

ITERA_KERNEL_CLONES
void conv_silu_step(const float* in, float* tail, const float* w, const float* bias, std::int64_t C,
                    std::int64_t K, float* out) {
    const float* w_last = w + (K - 1) * C;
#pragma omp simd
    for (std::int64_t c = 0; c < C; ++c) out[c] = bias[c] + w_last[c] * in[c];
    for (std::int64_t j = 0; j < K - 1; ++j) {
        const float* wj = w + j * C;
        const float* tj = tail + j * C;
#pragma omp simd
        for (std::int64_t c = 0; c < C; ++c) out[c] += wj[c] * tj[c];
    }
#pragma omp simd
    for (std::int64_t c = 0; c < C; ++c) out[c] = simd::silu(out[c]);
    for (std::int64_t j = 0; j + 1 < K - 1; ++j)
        std::memcpy(tail + j * C, tail + (j + 1) * C, static_cast<std::size_t>(C) * sizeof(float));
    if (K > 1) std::memcpy(tail + (K - 2) * C, in, static_cast<std::size_t>(C) * sizeof(float));
}

ITERA_KERNEL_CLONES
void rotate_pairs(float* x, const float* cos, const float* sin, std::int64_t half) {
    float* x2 = x + half;
#pragma omp simd
    for (std::int64_t j = 0; j < half; ++j) {
        const float a = x[j], b = x2[j];
        x[j] = a * cos[j] - b * sin[j];
        x2[j] = b * cos[j] + a * sin[j];
    }
}

ITERA_KERNEL_CLONES
void attend(const float* q, const float* keys_t, std::int64_t key_stride, const float* values,
            std::int64_t value_stride, std::int64_t n, std::int64_t hd, float scale, float* scores,
            float* out) {
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) scores[j] = 0;
    for (std::int64_t i = 0; i < hd; ++i) {
        const float qi = q[i] * scale;
        const float* row = keys_t + i * key_stride;
#pragma omp simd
        for (std::int64_t j = 0; j < n; ++j) scores[j] += qi * row[j];
    }
    float top = -INFINITY;
#pragma omp simd reduction(max : top)
    for (std::int64_t j = 0; j < n; ++j) top = std::fmax(top, scores[j]);
    float total = 0;
#pragma omp simd reduction(+ : total)
    for (std::int64_t j = 0; j < n; ++j) {
        scores[j] = simd::exp(scores[j] - top);
        total += scores[j];
    }
    const float inv = 1.0f / total;
#pragma omp simd
    for (std::int64_t i = 0; i < hd; ++i) out[i] = 0;
    for (std::int64_t j = 0; j < n; ++j) {
        const float* v = values + j * value_stride;
        const float w = scores[j] * inv;
#pragma omp simd
        for (std::int64_t i = 0; i < hd; ++i) out[i] += w * v[i];
    }
}

ITERA_KERNEL_CLONES
void scan_step(const float* xs, float* dt, const float* dt_bias, const float* A, const float* B,
               const float* C, const float* D, const float* z, float* h, std::int64_t n,
               std::int64_t N, std::int64_t stride, float* y) {
    // y accumulates D ⊙ xs + Σ_k h_k ⊙ C_k, then takes the gate.
#pragma omp simd
    for (std::int64_t c = 0; c < n; ++c) {
        dt[c] = simd::softplus(dt[c] + dt_bias[c]);
        y[c] = D[c] * xs[c];
    }
    for (std::int64_t k = 0; k < N; ++k) {
        float* hk = h + k * stride;
        const float* Ak = A + k * stride;
        const float Bk = B[k], Ck = C[k];
#pragma omp simd
        for (std::int64_t c = 0; c < n; ++c) {
            const float v = simd::exp(dt[c] * Ak[c]) * hk[c] + dt[c] * Bk * xs[c];
            hk[c] = v;
            y[c] += v * Ck;
        }
    }
#pragma omp simd
    for (std::int64_t c = 0; c < n; ++c) y[c] *= simd::silu(z[c]);
}

ITERA_KERNEL_CLONES
void gelu_inplace(float* x, std::int64_t n) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) x[i] = simd::gelu(x[i]);
}

ITERA_KERNEL_CLONES
void add_scaled(float* x, const float* y, float s, std::int64_t n) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) x[i] += s * y[i];
}

ITERA_KERNEL_CLONES
std::int64_t argmax(const float* x, std::int64_t n) {
    float top = -INFINITY;
#pragma omp simd reduction(max : top)
    for (std::int64_t i = 0; i < n; ++i) top = x[i] > top ? x[i] : top;
    for (std::int64_t i = 0; i < n; ++i)
        if (x[i] == top) return i;
    return 0;  // every value NaN
}

namespace {
typedef float v8f __attribute__((vector_size(32)));
inline v8f load8(const float* p) {
    v8f v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
}  // namespace

ITERA_KERNEL_CLONES
float stream_sum(const float* x, std::int64_t n) {
    v8f a0{}, a1{}, a2{}, a3{}, a4{}, a5{}, a6{}, a7{};
    std::int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 += load8(x + i);
        a1 += load8(x + i + 8);
        a2 += load8(x + i + 16);
        a3 += load8(x + i + 24);
        a4 += load8(x + i + 32);
        a5 += load8(x + i + 40);
        a6 += load8(x + i + 48);
        a7 += load8(x + i + 56);
    }
    const v8f s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; ++i) total += x[i];
    return total;
}

ITERA_KERNEL_CLONES
float kl_divergence(const float* a, float lse_a, const float* b, float lse_b, std::int64_t n) {
    float total = 0;
#pragma omp simd reduction(+ : total)
    for (std::int64_t i = 0; i < n; ++i) {
        const float la = a[i] - lse_a;
        total += simd::exp(la) * (la - (b[i] - lse_b));
    }
    return total;
}

ITERA_KERNEL_CLONES
float log_sum_exp(const float* x, std::int64_t n) {
    float top = -INFINITY;
#pragma omp simd reduction(max : top)
    for (std::int64_t i = 0; i < n; ++i) top = x[i] > top ? x[i] : top;
    if (!std::isfinite(top)) return top;
    float total = 0;
#pragma omp simd reduction(+ : total)
    for (std::int64_t i = 0; i < n; ++i) total += simd::exp(x[i] - top);
    return top + std::log(total);
}

}  // namespace itera::decode
