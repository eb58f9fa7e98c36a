// 4-bit matrices for the decoder: int4 (w = q · scale + offset per group of
// columns; symmetric int4 is offset = −8 · scale) and nf4 (w = NF4[q] · scale).
// At load each row is re-packed for the kernel: per 16-column chunk, byte k
// holds column k (low nibble) and column k + 8 (high nibble), so one 8-byte
// load widens into two 8-float vectors without shuffles; rows are padded to
// whole groups. Four rows run side by side (eight FMA chains); at each group
// end the four partial dots are reduced at once and scaled:
//   y += scale · Σ q·x + offset · Σ x   (Σ x per group computed once per call).

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "compress/scheme.h"
#include "infer/matrix.h"
#include "util/error.h"

namespace itera {
namespace {

#define ITERA_AVX2 __attribute__((target("avx2,fma,f16c")))

struct Int4Codes {
    ITERA_AVX2 static __m256 widen(__m256i q) { return _mm256_cvtepi32_ps(q); }
    static float scalar(int q) { return static_cast<float>(q); }
};

struct Nf4Codes {
    ITERA_AVX2 static __m256 widen(__m256i q) {
        const __m256 lo = _mm256_loadu_ps(kNf4.data()), hi = _mm256_loadu_ps(kNf4.data() + 8);
        const __m256 a = _mm256_permutevar8x32_ps(lo, q), b = _mm256_permutevar8x32_ps(hi, q);
        return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(q, 28)));  // bit 3
    }
    static float scalar(int q) { return kNf4[static_cast<std::size_t>(q)]; }
};

ITERA_AVX2 inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

ITERA_AVX2 inline float hsum(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

/// The 16 weights at p (8 bytes) times [xl, xh], into two accumulators
/// (two independent FMA chains).
template <class Codes>
ITERA_AVX2 inline void chunk_dot(const std::uint8_t* p, __m256 xl, __m256 xh, __m256& lo,
                                 __m256& hi, __m256i nib) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    lo = _mm256_fmadd_ps(Codes::widen(_mm256_and_si256(v, nib)), xl, lo);
    hi = _mm256_fmadd_ps(Codes::widen(_mm256_srli_epi32(v, 4)), xh, hi);
}

struct Layout {
    std::int64_t rows, groups, group;
    std::int64_t padded;     // columns rounded up to 16: the last group may be short
    std::int64_t row_bytes;  // padded / 2
};

/// Where the scale / offset of (row r, group g) is kept: blocks of four rows
/// as [group][4], the rows after the last block row-major after them.
inline std::int64_t param_index(std::int64_t r, std::int64_t g, const Layout& L) {
    const std::int64_t full = L.rows / 4 * 4;
    if (r < full) return (r / 4 * L.groups + g) * 4 + r % 4;
    return full * L.groups + (r - full) * L.groups + g;
}

/// Rows [r0, r1) for `batch` vectors x (padded to groups · group floats).
template <class Codes>
ITERA_AVX2 void kernel_avx2(const std::uint8_t* w, const float* scale, const float* offset,
                            const Layout& L, const float* x, const float* xsum, std::int64_t batch,
                            float* y, std::int64_t r0, std::int64_t r1) {
    const std::int64_t stride = L.padded, G = L.groups;
    const __m256i nib = _mm256_set1_epi32(15);
    std::int64_t r = r0;
    for (; r + 4 <= std::min(r1, L.rows / 4 * 4); r += 4) {
        for (std::int64_t b = 0; b < batch; ++b) {
            const float* xb = x + b * stride;
            __m128 total = _mm_setzero_ps();
            for (std::int64_t g = 0; g < G; ++g) {
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                __m256 h0 = a0, h1 = a0, h2 = a0, h3 = a0;
                const std::int64_t c0 = g * L.group, c1 = std::min(L.padded, c0 + L.group);
                for (std::int64_t c = c0; c < c1; c += 16) {
                    const __m256 xl = _mm256_loadu_ps(xb + c), xh = _mm256_loadu_ps(xb + c + 8);
                    const std::uint8_t* p = w + r * L.row_bytes + c / 2;
                    __builtin_prefetch(p + 512);
                    chunk_dot<Codes>(p, xl, xh, a0, h0, nib);
                    chunk_dot<Codes>(p + L.row_bytes, xl, xh, a1, h1, nib);
                    chunk_dot<Codes>(p + 2 * L.row_bytes, xl, xh, a2, h2, nib);
                    chunk_dot<Codes>(p + 3 * L.row_bytes, xl, xh, a3, h3, nib);
                }
                a0 = _mm256_add_ps(a0, h0);
                a1 = _mm256_add_ps(a1, h1);
                a2 = _mm256_add_ps(a2, h2);
                a3 = _mm256_add_ps(a3, h3);
                // Scales and offsets of a row block are stored [group][4 rows].
                const std::int64_t at = (r / 4 * G + g) * 4;
                total = _mm_fmadd_ps(_mm_loadu_ps(scale + at), hsum4(a0, a1, a2, a3), total);
                if (offset)
                    total = _mm_fmadd_ps(_mm_loadu_ps(offset + at),
                                         _mm_broadcast_ss(xsum + b * G + g), total);
            }
            _mm_storeu_ps(y + b * L.rows + r, total);
        }
    }
    for (; r < r1; ++r)  // the last rows, one at a time
        for (std::int64_t b = 0; b < batch; ++b) {
            const float* xb = x + b * stride;
            float total = 0;
            for (std::int64_t g = 0; g < G; ++g) {
                __m256 a = _mm256_setzero_ps(), h = a;
                const std::int64_t c0 = g * L.group, c1 = std::min(L.padded, c0 + L.group);
                for (std::int64_t c = c0; c < c1; c += 16)
                    chunk_dot<Codes>(w + r * L.row_bytes + c / 2, _mm256_loadu_ps(xb + c),
                                     _mm256_loadu_ps(xb + c + 8), a, h, nib);
                a = _mm256_add_ps(a, h);
                const std::int64_t at = param_index(r, g, L);
                total += scale[at] * hsum(a);
                if (offset) total += offset[at] * xsum[b * G + g];
            }
            y[b * L.rows + r] = total;
        }
}

/// Weight (r, c) in the kernel's packing.
int code_at(const std::uint8_t* w, const Layout& L, std::int64_t r, std::int64_t c) {
    const std::uint8_t byte = w[r * L.row_bytes + (c / 16) * 8 + c % 8];
    return c % 16 < 8 ? byte & 15 : byte >> 4;
}

template <class Codes>
void kernel_scalar(const std::uint8_t* w, const float* scale, const float* offset, const Layout& L,
                   const float* x, const float* xsum, std::int64_t batch, float* y, std::int64_t r0,
                   std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r)
        for (std::int64_t b = 0; b < batch; ++b) {
            float total = 0;
            for (std::int64_t g = 0; g < L.groups; ++g) {
                float dot = 0;
                for (std::int64_t c = g * L.group; c < std::min(L.padded, (g + 1) * L.group); ++c)
                    dot += Codes::scalar(code_at(w, L, r, c)) * x[b * L.padded + c];
                const std::int64_t at = param_index(r, g, L);
                total += scale[at] * dot;
                if (offset) total += offset[at] * xsum[b * L.groups + g];
            }
            y[b * L.rows + r] = total;
        }
}

bool have_avx2() {
    static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return yes;
}

template <class Codes>
class FourBitMatrix final : public Matrix {
public:
    FourBitMatrix(const QuantizedMatrix& q, std::string format)
        : Matrix(q.rows, q.cols), format_(std::move(format)) {
        const std::int64_t padded = (q.cols + 15) / 16 * 16;
        L_ = {q.rows, q.groups(), q.group_size, padded, padded / 2};
        w_.assign(static_cast<std::size_t>(q.rows * L_.row_bytes), 0);
        for (std::int64_t r = 0; r < q.rows; ++r)
            for (std::int64_t c = 0; c < q.cols; ++c) {
                auto& byte = w_[static_cast<std::size_t>(r * L_.row_bytes + (c / 16) * 8 + c % 8)];
                byte = static_cast<std::uint8_t>(
                    byte | (c % 16 < 8 ? q.nibble(r, c) : q.nibble(r, c) << 4));
            }
        const auto n = static_cast<std::size_t>(q.rows * L_.groups);
        scale_.assign(n, 0.0f);
        if (q.scheme == Scheme::Int4) offset_.assign(n, 0.0f);
        for (std::int64_t r = 0; r < q.rows; ++r)
            for (std::int64_t g = 0; g < L_.groups; ++g) {
                const auto from = static_cast<std::size_t>(r * L_.groups + g);
                const auto to = static_cast<std::size_t>(param_index(r, g, L_));
                scale_[to] = q.scales[from];
                if (q.scheme == Scheme::Int4)  // (q − 8) · s = q · s − 8 · s when symmetric
                    offset_[to] = q.symmetric ? -8.0f * q.scales[from] : q.zeros[from];
            }
        bytes_ = q.stored_bytes();
    }

    void multiply(const float* x, std::int64_t batch, float* y, std::int64_t row_begin,
                  std::int64_t row_end) const override {
        const std::int64_t stride = L_.padded;
        thread_local std::vector<float> xs, sums;
        xs.assign(static_cast<std::size_t>(batch * stride), 0.0f);
        sums.assign(static_cast<std::size_t>(batch * L_.groups), 0.0f);
        for (std::int64_t b = 0; b < batch; ++b) {
            const float* xb = x + b * cols();
            std::memcpy(xs.data() + b * stride, xb,
                        static_cast<std::size_t>(cols()) * sizeof(float));
            for (std::int64_t g = 0; g < L_.groups; ++g) {  // Σ x per group, for the offsets
                float sum = 0;
                for (std::int64_t c = g * L_.group; c < std::min(cols(), (g + 1) * L_.group); ++c)
                    sum += xb[c];
                sums[static_cast<std::size_t>(b * L_.groups + g)] = sum;
            }
        }
        const float* off = offset_.empty() ? nullptr : offset_.data();
        if (have_avx2())
            kernel_avx2<Codes>(w_.data(), scale_.data(), off, L_, xs.data(), sums.data(), batch, y,
                               row_begin, row_end);
        else
            kernel_scalar<Codes>(w_.data(), scale_.data(), off, L_, xs.data(), sums.data(), batch,
                                 y, row_begin, row_end);
    }

    void row(std::int64_t r, float* out) const override {
        for (std::int64_t c = 0; c < cols(); ++c) {
            const auto g = static_cast<std::size_t>(param_index(r, c / L_.group, L_));
            out[c] = Codes::scalar(code_at(w_.data(), L_, r, c)) * scale_[g] +
                     (offset_.empty() ? 0.0f : offset_[g]);
        }
    }

    std::size_t bytes() const override { return bytes_; }
    std::string format() const override { return format_; }

private:
    std::string format_;
    Layout L_{};
    std::vector<std::uint8_t> w_;
    std::vector<float> scale_, offset_;
    std::size_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<Matrix> make_four_bit_matrix(const QuantizedMatrix& q) {
    if (q.scheme == Scheme::Int4) return std::make_unique<FourBitMatrix<Int4Codes>>(q, "int4");
    if (q.scheme == Scheme::Nf4) return std::make_unique<FourBitMatrix<Nf4Codes>>(q, "nf4");
    throw Error("internal: not a 4-bit scheme");
}

}  // namespace itera
