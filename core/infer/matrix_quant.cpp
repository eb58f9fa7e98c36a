// 16-bit matrices for the decoder: f16 and bf16 (int8 is in matrix_int8.cpp).
// Same blocked layout as FP32 (blocks of four rows, each as 16-column chunks
// of its four rows side by side, rows padded to 16), so a token reads one
// sequential stream of half the bytes. Weights are widened to float in
// registers, never held as FP32: F16C for f16, a 16-bit shift for bf16. On
// CPUs without AVX2/FMA/F16C a scalar loop does the same sums.

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "format/half.h"
#include "infer/blocked_layout.h"
#include "infer/matrix.h"
#include "infer/simd_sum.h"
#include "util/error.h"
#include "util/kernel_path.h"

namespace itera {
namespace {

constexpr std::int64_t kAhead = 2048;  // elements prefetched ahead of the weight stream

#define ITERA_AVX2 __attribute__((target("avx2,fma,f16c")))

struct F16 {
    using T = std::uint16_t;
    ITERA_AVX2 static __m256 load(const T* p) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    }
    static float scalar(T v) { return half_to_float(v); }
};

struct BF16 {
    using T = std::uint16_t;
    ITERA_AVX2 static __m256 load(const T* p) {
        const __m256i w =
            _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
    }
    static float scalar(T v) { return bf16_to_float(v); }
};

ITERA_AVX2 inline float hsum(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

/// Prefetches the cache lines of the chunk kAhead elements ahead.
template <class T>
inline void prefetch(const T* p) {
    for (std::size_t line = 0; line < 64 * sizeof(T); line += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(p + kAhead) + line);
}

/// y rows [r0, r1) (r0 a multiple of 4) for `batch` vectors of `stride`
/// floats; `scale` (per row) multiplies each sum when given.
template <class L>
ITERA_AVX2 void kernel_avx2(const typename L::T* w, std::int64_t stride, const float* x,
                            std::int64_t batch, float* y, std::int64_t rows, std::int64_t r0,
                            std::int64_t r1, const float* scale) {
    const std::int64_t full = rows / 4 * 4;
    std::int64_t r = r0;
    for (; r + 4 <= std::min(r1, full); r += 4) {
        const typename L::T* blk = w + r * stride;
        const __m128 sv = scale ? _mm_loadu_ps(scale + r) : _mm_set1_ps(1.0f);
        std::int64_t b = 0;
        for (; b + 2 <= batch; b += 2) {  // two vectors per pass, as the FP32 kernel
            const float* xb = x + b * stride;
            const float* xc = xb + stride;
            const typename L::T* p = blk;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0,
                   c3 = a0;
            for (std::int64_t c = 0; c < stride; c += 16, p += 64) {
                prefetch(p);
                for (int half = 0; half < 16; half += 8) {
                    const __m256 xl = _mm256_loadu_ps(xb + c + half),
                                 xh = _mm256_loadu_ps(xc + c + half);
                    const __m256 w0 = L::load(p + half), w1 = L::load(p + 16 + half);
                    const __m256 w2 = L::load(p + 32 + half), w3 = L::load(p + 48 + half);
                    a0 = _mm256_fmadd_ps(w0, xl, a0);
                    c0 = _mm256_fmadd_ps(w0, xh, c0);
                    a1 = _mm256_fmadd_ps(w1, xl, a1);
                    c1 = _mm256_fmadd_ps(w1, xh, c1);
                    a2 = _mm256_fmadd_ps(w2, xl, a2);
                    c2 = _mm256_fmadd_ps(w2, xh, c2);
                    a3 = _mm256_fmadd_ps(w3, xl, a3);
                    c3 = _mm256_fmadd_ps(w3, xh, c3);
                }
            }
            float* yb = y + b * rows + r;
            _mm_storeu_ps(yb, _mm_mul_ps(sv, simd::hsum4(a0, a1, a2, a3)));
            _mm_storeu_ps(yb + rows, _mm_mul_ps(sv, simd::hsum4(c0, c1, c2, c3)));
        }
        for (; b < batch; ++b) {  // the same sums in the same order as a pair's
            const float* xb = x + b * stride;
            const typename L::T* p = blk;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (std::int64_t c = 0; c < stride; c += 16, p += 64) {
                prefetch(p);
                for (int half = 0; half < 16; half += 8) {
                    const __m256 xl = _mm256_loadu_ps(xb + c + half);
                    a0 = _mm256_fmadd_ps(L::load(p + half), xl, a0);
                    a1 = _mm256_fmadd_ps(L::load(p + 16 + half), xl, a1);
                    a2 = _mm256_fmadd_ps(L::load(p + 32 + half), xl, a2);
                    a3 = _mm256_fmadd_ps(L::load(p + 48 + half), xl, a3);
                }
            }
            _mm_storeu_ps(y + b * rows + r, _mm_mul_ps(sv, simd::hsum4(a0, a1, a2, a3)));
        }
    }
    for (; r < r1; ++r) {  // rows after the last block, stored plainly
        const typename L::T* w0 = w + r * stride;
        const float s = scale ? scale[r] : 1.0f;
        for (std::int64_t b = 0; b < batch; ++b) {
            const float* xb = x + b * stride;
            __m256 a = _mm256_setzero_ps();
            for (std::int64_t c = 0; c < stride; c += 8)
                a = _mm256_fmadd_ps(L::load(w0 + c), _mm256_loadu_ps(xb + c), a);
            y[b * rows + r] = s * hsum(a);
        }
    }
}

template <class L>
void kernel_scalar(const typename L::T* w, std::int64_t stride, const float* x, std::int64_t batch,
                   float* y, std::int64_t rows, std::int64_t r0, std::int64_t r1,
                   const float* scale) {
    for (std::int64_t r = r0; r < r1; ++r)
        for (std::int64_t b = 0; b < batch; ++b) {
            float acc = 0;
            for (std::int64_t c = 0; c < stride; ++c)
                acc += L::scalar(w[blocked::index(r, c, rows, stride)]) * x[b * stride + c];
            y[b * rows + r] = (scale ? scale[r] : 1.0f) * acc;
        }
}

bool have_avx2() {
    static const bool f16c = __builtin_cpu_supports("f16c");
    return f16c && kernel_path() != KernelPath::Scalar;
}

template <class L>
class BlockedMatrix final : public Matrix {
public:
    using T = typename L::T;
    BlockedMatrix(const T* data, const float* scales, std::int64_t rows, std::int64_t cols,
                  std::string format)
        : Matrix(rows, cols), stride_(blocked::padded(cols)), format_(std::move(format)) {
        if (rows < 1 || cols < 1) throw Error(format_ + " matrix: empty shape");
        w_.assign(static_cast<std::size_t>(rows * stride_), T{});
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c)
                w_[static_cast<std::size_t>(blocked::index(r, c, rows, stride_))] =
                    data[r * cols + c];
        if (scales) scales_.assign(scales, scales + rows);
    }

    void multiply(const float* x, std::int64_t batch, float* y, std::int64_t row_begin,
                  std::int64_t row_end) const override {
        const float* xs = x;
        thread_local std::vector<float> scratch;
        if (cols() != stride_) {  // x re-laid out with zero padding
            scratch.assign(static_cast<std::size_t>(batch * stride_), 0.0f);
            for (std::int64_t b = 0; b < batch; ++b)
                std::memcpy(scratch.data() + b * stride_, x + b * cols(),
                            static_cast<std::size_t>(cols()) * sizeof(float));
            xs = scratch.data();
        }
        const float* s = scales_.empty() ? nullptr : scales_.data();
        if (have_avx2())
            kernel_avx2<L>(w_.data(), stride_, xs, batch, y, rows(), row_begin, row_end, s);
        else
            kernel_scalar<L>(w_.data(), stride_, xs, batch, y, rows(), row_begin, row_end, s);
    }

    void row(std::int64_t r, float* out) const override {
        const float s = scales_.empty() ? 1.0f : scales_[static_cast<std::size_t>(r)];
        for (std::int64_t c = 0; c < cols(); ++c)
            out[c] =
                s * L::scalar(w_[static_cast<std::size_t>(blocked::index(r, c, rows(), stride_))]);
    }

    std::size_t bytes() const override {
        return static_cast<std::size_t>(rows() * cols()) * sizeof(T) +
               scales_.size() * sizeof(float);
    }

    std::string format() const override { return format_; }

private:
    std::int64_t stride_;
    std::string format_;
    std::vector<T> w_;
    std::vector<float> scales_;
};

}  // namespace

std::unique_ptr<Matrix> make_f16_matrix(const std::uint16_t* bits, std::int64_t rows,
                                        std::int64_t cols) {
    return std::make_unique<BlockedMatrix<F16>>(bits, nullptr, rows, cols, "f16");
}

std::unique_ptr<Matrix> make_bf16_matrix(const std::uint16_t* bits, std::int64_t rows,
                                         std::int64_t cols) {
    return std::make_unique<BlockedMatrix<BF16>>(bits, nullptr, rows, cols, "bf16");
}

}  // namespace itera
