#include "infer/input_quant.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "util/kernel_path.h"

namespace itera {
namespace {

/// q[c] = round(x[c] · inv) for c in [from, cols) (|x · inv| ≤ 32767 up to rounding).
void round_tail(const float* x, std::int64_t from, std::int64_t cols, float inv, std::int16_t* q) {
    for (std::int64_t c = from; c < cols; ++c)
        q[c] =
            static_cast<std::int16_t>(std::nearbyint(std::clamp(x[c] * inv, -32767.0f, 32767.0f)));
}

/// The scale for a vector whose largest |x| is `top` and Σ|x| is `total`:
/// NaN when either is not finite, 0 (with q zeroed) for an all-zero x.
std::optional<float> special_scale(float top, float total, std::int64_t cols, std::int16_t* q) {
    if (!std::isfinite(total)) return NAN;  // inf or NaN anywhere
    if (top == 0) {
        std::fill_n(q, cols, std::int16_t{0});
        return 0.0f;
    }
    return std::nullopt;
}

float quantize_scalar(const float* x, std::int64_t cols, std::int16_t* q) {
    float top = 0, total = 0;
    for (std::int64_t c = 0; c < cols; ++c) {
        top = std::max(top, std::abs(x[c]));
        total += std::abs(x[c]);
    }
    if (auto s = special_scale(top, total, cols, q)) return *s;
    round_tail(x, 0, cols, 32767.0f / top, q);
    return top / 32767.0f;
}

__attribute__((target("avx2,fma"))) float quantize_avx2(const float* x, std::int64_t cols,
                                                        std::int16_t* q) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 top = _mm256_setzero_ps(), total = top;
    std::int64_t c = 0;
    for (; c + 8 <= cols; c += 8) {
        const __m256 a = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + c));
        top = _mm256_max_ps(top, a);
        total = _mm256_add_ps(total, a);
    }
    alignas(32) float t[8], s[8];
    _mm256_store_ps(t, top);
    _mm256_store_ps(s, total);
    float m = 0, sum = 0;
    for (int i = 0; i < 8; ++i) {
        m = std::max(m, t[i]);
        sum += s[i];
    }
    for (std::int64_t k = c; k < cols; ++k) {
        m = std::max(m, std::abs(x[k]));
        sum += std::abs(x[k]);
    }
    if (auto s = special_scale(m, sum, cols, q)) return *s;
    const float inv = 32767.0f / m;
    const __m256 vinv = _mm256_set1_ps(inv);
    for (c = 0; c + 16 <= cols; c += 16) {  // |x · inv| ≤ 32767 (+ rounding): packs saturates
        const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + c), vinv));
        const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + c + 8), vinv));
        const __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xd8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + c), p);
    }
    round_tail(x, c, cols, inv, q);
    return m / 32767.0f;
}

}  // namespace

float quantize_input(const float* x, std::int64_t cols, std::int16_t* q) {
    return kernel_path() != KernelPath::Scalar ? quantize_avx2(x, cols, q)
                                               : quantize_scalar(x, cols, q);
}

}  // namespace itera
