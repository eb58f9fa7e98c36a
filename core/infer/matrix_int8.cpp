// The int8 matrix (symmetric, one scale per row) for the decoder. Weights
// keep the FP32 kernel's blocked layout (blocks of four rows, each stored as
// 16-column chunks of its four rows side by side, rows padded to 16), one
// byte each. The input is rounded to 16-bit fixed point (input_quant.h) and
// the sums are integer multiply-adds: VPDPWSSD on CPUs with AVX-512 VNNI
// (two rows per 512-bit register), VPMADDWD + VPADDD on AVX2, a scalar loop
// elsewhere. The integer sums are exact, so a result never depends on the
// batch or the thread split.
//   y[r] = scale[r] · s_x · Σ_c q[r, c] · q_x[c]
// Lane sums are widened to float every kFlush columns: a lane adds two
// products of at most 127 · 32767 per 16 columns, so 2,048 columns stay far
// inside int32.

// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_* as an
// operand) when they are inlined into target-attributed functions.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "infer/blocked_layout.h"
#include "infer/input_quant.h"
#include "infer/matrix.h"
#include "infer/simd_sum.h"
#include "util/error.h"
#include "util/kernel_path.h"

namespace itera {
namespace {

constexpr std::int64_t kFlush = 2048;

#define ITERA_AVX2 __attribute__((target("avx2,fma")))
#define ITERA_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512dq,avx2,fma")))

/// 16 weights sign-extended to 16 bits.
ITERA_AVX2 inline __m256i widen16(const std::int8_t* p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

/// Sums of a 4-row block for one input vector: [Σ r0, Σ r1, Σ r2, Σ r3].
ITERA_AVX2 __m128 block_avx2(const std::int8_t* blk, const std::int16_t* x, std::int64_t stride) {
    __m256 f0 = _mm256_setzero_ps(), f1 = f0, f2 = f0, f3 = f0;
    for (std::int64_t c0 = 0; c0 < stride; c0 += kFlush) {
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        const std::int64_t end = std::min(stride, c0 + kFlush);
        for (std::int64_t c = c0; c < end; c += 16) {
            const std::int8_t* p = blk + c * 4;
            __builtin_prefetch(p + 1024);
            const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(widen16(p), xv));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(widen16(p + 16), xv));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(widen16(p + 32), xv));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(widen16(p + 48), xv));
        }
        f0 = _mm256_add_ps(f0, _mm256_cvtepi32_ps(a0));
        f1 = _mm256_add_ps(f1, _mm256_cvtepi32_ps(a1));
        f2 = _mm256_add_ps(f2, _mm256_cvtepi32_ps(a2));
        f3 = _mm256_add_ps(f3, _mm256_cvtepi32_ps(a3));
    }
    return simd::hsum4(f0, f1, f2, f3);
}

/// The same sums with AVX-512 VNNI: rows 0 and 1 share one register (their
/// 16-column chunks are adjacent in the layout), rows 2 and 3 another.
ITERA_VNNI __m128 block_vnni(const std::int8_t* blk, const std::int16_t* x, std::int64_t stride) {
    __m512 f01 = _mm512_setzero_ps(), f23 = f01;
    for (std::int64_t c0 = 0; c0 < stride; c0 += kFlush) {
        __m512i a01 = _mm512_setzero_si512(), a23 = a01;
        const std::int64_t end = std::min(stride, c0 + kFlush);
        for (std::int64_t c = c0; c < end; c += 16) {
            const std::int8_t* p = blk + c * 4;
            __builtin_prefetch(p + 1024);
            const __m512i xv =
                _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c)));
            const __m512i w01 =
                _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
            const __m512i w23 =
                _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)));
            a01 = _mm512_dpwssd_epi32(a01, w01, xv);
            a23 = _mm512_dpwssd_epi32(a23, w23, xv);
        }
        f01 = _mm512_add_ps(f01, _mm512_cvtepi32_ps(a01));
        f23 = _mm512_add_ps(f23, _mm512_cvtepi32_ps(a23));
    }
    return simd::hsum4(_mm512_castps512_ps256(f01), _mm512_extractf32x8_ps(f01, 1),
                       _mm512_castps512_ps256(f23), _mm512_extractf32x8_ps(f23, 1));
}

class Int8Matrix final : public Matrix {
public:
    Int8Matrix(const std::int8_t* q, const float* scales, std::int64_t rows, std::int64_t cols)
        : Matrix(rows, cols), stride_(blocked::padded(cols)) {
        if (rows < 1 || cols < 1) throw Error("int8 matrix: empty shape");
        w_.assign(static_cast<std::size_t>(rows * stride_), 0);
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c)
                w_[static_cast<std::size_t>(blocked::index(r, c, rows, stride_))] = q[r * cols + c];
        scales_.assign(scales, scales + rows);
    }

    void multiply(const float* x, std::int64_t batch, float* y, std::int64_t row_begin,
                  std::int64_t row_end) const override {
        thread_local QuantizedInput in;
        in.assign(x, batch, cols(), stride_);
        const std::int64_t full = rows() / 4 * 4;
        const KernelPath path = kernel_path();
        const bool vnni = path == KernelPath::Avx512Vnni, avx2 = path != KernelPath::Scalar;
        // Row blocks outside, vectors inside: a block's weights stay in L1 for the batch.
        std::int64_t r = row_begin;
        for (; r + 4 <= std::min(row_end, full) && avx2; r += 4) {
            const std::int8_t* blk = w_.data() + r * stride_;
            for (std::int64_t b = 0; b < batch; ++b) {
                const std::int16_t* xb = in.q.data() + b * stride_;
                const __m128 sums =
                    vnni ? block_vnni(blk, xb, stride_) : block_avx2(blk, xb, stride_);
                alignas(16) float s[4];
                _mm_store_ps(s, sums);
                const float sx = in.scale[static_cast<std::size_t>(b)];
                for (int i = 0; i < 4; ++i)
                    y[b * rows() + r + i] = scales_[static_cast<std::size_t>(r + i)] * sx * s[i];
            }
        }
        for (; r < row_end; ++r)  // without AVX2, and the rows after the last block
            for (std::int64_t b = 0; b < batch; ++b) {
                const std::int16_t* xb = in.q.data() + b * stride_;
                std::int64_t total = 0;
                for (std::int64_t c = 0; c < stride_; ++c)
                    total +=
                        std::int64_t{
                            w_[static_cast<std::size_t>(blocked::index(r, c, rows(), stride_))]} *
                        xb[c];
                y[b * rows() + r] = scales_[static_cast<std::size_t>(r)] *
                                    in.scale[static_cast<std::size_t>(b)] *
                                    static_cast<float>(total);
            }
    }

    void row(std::int64_t r, float* out) const override {
        const float s = scales_[static_cast<std::size_t>(r)];
        for (std::int64_t c = 0; c < cols(); ++c)
            out[c] = s * static_cast<float>(
                             w_[static_cast<std::size_t>(blocked::index(r, c, rows(), stride_))]);
    }

    std::size_t bytes() const override {
        return static_cast<std::size_t>(rows() * cols()) + scales_.size() * sizeof(float);
    }

    std::string format() const override { return "int8"; }

private:
    std::int64_t stride_;
    std::vector<std::int8_t> w_;
    std::vector<float> scales_;
};

}  // namespace

std::unique_ptr<Matrix> make_int8_matrix(const std::int8_t* q, const float* scales,
                                         std::int64_t rows, std::int64_t cols) {
    return std::make_unique<Int8Matrix>(q, scales, rows, cols);
}

}  // namespace itera
