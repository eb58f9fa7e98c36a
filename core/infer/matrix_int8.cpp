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

#include "infer/aligned.h"
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

/// Sums of a 4-row block for NV input vectors: out[v] = [Σ r0, Σ r1, Σ r2,
/// Σ r3] of x[v]. The weights are widened once for all NV vectors; each
/// vector's sums are the same operations as when it runs alone.
template <int NV>
ITERA_AVX2 inline void block_avx2(const std::int8_t* blk, const std::int16_t* const* xs,
                                  std::int64_t stride, __m128* out) {
    const std::int16_t* x[NV];  // local copies: no reloads through the pointer array
    for (int v = 0; v < NV; ++v) x[v] = xs[v];
    __m256 f[NV][4];
    for (auto& fv : f)
        for (auto& fr : fv) fr = _mm256_setzero_ps();
    for (std::int64_t c0 = 0; c0 < stride; c0 += kFlush) {
        __m256i a[NV][4];
        for (auto& av : a)
            for (auto& ar : av) ar = _mm256_setzero_si256();
        const std::int64_t end = std::min(stride, c0 + kFlush);
        for (std::int64_t c = c0; c < end; c += 16) {
            const std::int8_t* p = blk + c * 4;
            __builtin_prefetch(p + 1024);
            const __m256i w[4] = {widen16(p), widen16(p + 16), widen16(p + 32), widen16(p + 48)};
            for (int v = 0; v < NV; ++v) {
                const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[v] + c));
                for (int i = 0; i < 4; ++i)
                    a[v][i] = _mm256_add_epi32(a[v][i], _mm256_madd_epi16(w[i], xv));
            }
        }
        for (int v = 0; v < NV; ++v)
            for (int i = 0; i < 4; ++i)
                f[v][i] = _mm256_add_ps(f[v][i], _mm256_cvtepi32_ps(a[v][i]));
    }
    for (int v = 0; v < NV; ++v) out[v] = simd::hsum4(f[v][0], f[v][1], f[v][2], f[v][3]);
}

/// The same sums with AVX-512 VNNI: rows 0 and 1 share one register (their
/// 16-column chunks are adjacent in the layout), rows 2 and 3 another.
template <int NV>
ITERA_VNNI inline void block_vnni(const std::int8_t* blk, const std::int16_t* const* xs,
                                  std::int64_t stride, __m128* out) {
    const std::int16_t* x[NV];  // local copies: no reloads through the pointer array
    for (int v = 0; v < NV; ++v) x[v] = xs[v];
    __m512 f01[NV], f23[NV];
    for (int v = 0; v < NV; ++v) f01[v] = f23[v] = _mm512_setzero_ps();
    for (std::int64_t c0 = 0; c0 < stride; c0 += kFlush) {
        __m512i a01[NV], a23[NV];
        for (int v = 0; v < NV; ++v) a01[v] = a23[v] = _mm512_setzero_si512();
        const std::int64_t end = std::min(stride, c0 + kFlush);
        for (std::int64_t c = c0; c < end; c += 16) {
            const std::int8_t* p = blk + c * 4;
            __builtin_prefetch(p + 1024);
            const __m512i w01 =
                _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
            const __m512i w23 =
                _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)));
            for (int v = 0; v < NV; ++v) {
                const __m512i xv = _mm512_broadcast_i64x4(
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[v] + c)));
                a01[v] = _mm512_dpwssd_epi32(a01[v], w01, xv);
                a23[v] = _mm512_dpwssd_epi32(a23[v], w23, xv);
            }
        }
        for (int v = 0; v < NV; ++v) {
            f01[v] = _mm512_add_ps(f01[v], _mm512_cvtepi32_ps(a01[v]));
            f23[v] = _mm512_add_ps(f23[v], _mm512_cvtepi32_ps(a23[v]));
        }
    }
    for (int v = 0; v < NV; ++v)
        out[v] = simd::hsum4(_mm512_castps512_ps256(f01[v]), _mm512_extractf32x8_ps(f01[v], 1),
                             _mm512_castps512_ps256(f23[v]), _mm512_extractf32x8_ps(f23[v], 1));
}

/// Everything the rows [r0, r1) (whole blocks) of a batch need, for the loops below.
struct RowJob {
    const std::int8_t* w;
    std::int64_t stride, rows, batch;
    const std::int16_t* x;  ///< batch × stride
    const float* sx;        ///< batch
    const float* scales;    ///< rows
    float* y;               ///< batch × rows
};

/// y of one block for the NV vectors starting at b.
template <int NV>
inline void store_block(const RowJob& j, const __m128* sums, std::int64_t b, std::int64_t r) {
    for (int v = 0; v < NV; ++v) {
        alignas(16) float s[4];
        _mm_store_ps(s, sums[v]);
        for (int i = 0; i < 4; ++i)
            j.y[(b + v) * j.rows + r + i] = j.scales[r + i] * j.sx[b + v] * s[i];
    }
}

/// Row blocks outside, vectors inside (a block's weights stay in L1 for the
/// batch), two vectors per pass; the block code is inlined into these loops,
/// which matters for short rows such as the tied head's.
#define ITERA_ROW_LOOP(NAME, TARGET, BLOCK)                                                 \
    TARGET void NAME(const RowJob& j, std::int64_t r0, std::int64_t r1) {                   \
        for (std::int64_t r = r0; r < r1; r += 4) {                                         \
            const std::int8_t* blk = j.w + r * j.stride;                                    \
            std::int64_t b = 0;                                                             \
            for (; b + 2 <= j.batch; b += 2) {                                              \
                const std::int16_t* xs[2] = {j.x + b * j.stride, j.x + (b + 1) * j.stride}; \
                __m128 sums[2];                                                             \
                BLOCK<2>(blk, xs, j.stride, sums);                                          \
                store_block<2>(j, sums, b, r);                                              \
            }                                                                               \
            if (b < j.batch) {                                                              \
                const std::int16_t* xs[1] = {j.x + b * j.stride};                           \
                __m128 sums[1];                                                             \
                BLOCK<1>(blk, xs, j.stride, sums);                                          \
                store_block<1>(j, sums, b, r);                                              \
            }                                                                               \
        }                                                                                   \
    }
ITERA_ROW_LOOP(rows_avx2, ITERA_AVX2, block_avx2)
ITERA_ROW_LOOP(rows_vnni, ITERA_VNNI, block_vnni)
#undef ITERA_ROW_LOOP

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
        std::int64_t r = row_begin;
        if (avx2) {
            const std::int64_t r1 = std::max(r, std::min(row_end, full) / 4 * 4);
            const RowJob job{w_.data(),   stride_,         rows(),         batch,
                             in.q.data(), in.scale.data(), scales_.data(), y};
            vnni ? rows_vnni(job, r, r1) : rows_avx2(job, r, r1);
            r = r1;
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
    AlignedVector<std::int8_t> w_;  // 64-byte aligned: the kernels load whole chunks
    std::vector<float> scales_;
};

}  // namespace

std::unique_ptr<Matrix> make_int8_matrix(const std::int8_t* q, const float* scales,
                                         std::int64_t rows, std::int64_t cols) {
    return std::make_unique<Int8Matrix>(q, scales, rows, cols);
}

}  // namespace itera
