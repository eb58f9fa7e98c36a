// 4-bit matrices for the decoder: int4 (w = q · scale + offset per group of
// columns; symmetric int4 is offset = −8 · scale) and nf4 (w = NF4[q] · scale).
// At load each row is re-packed in 64-column chunks of 32 bytes: byte j holds
// column j (low nibble) and column 32 + j (high nibble), so one 32-byte load
// widened to 16-bit lanes and split by mask and shift gives the codes of
// columns 0–31 and 32–63 in order. The input is rounded to 16-bit fixed
// point (input_quant.h) and the sums are integer multiply-adds (VPDPWSSD with
// AVX-512 VNNI, VPMADDWD on AVX2, a scalar loop elsewhere):
//   y = s_x · (Σ_groups scale · Σ code · q_x + Σ_groups offset · Σ q_x)
// int4 codes are 0–15; nf4 codes are the NF4 table in units of 1/8192
// (looked up with VPERMW or PSHUFB; |error| ≤ 6.1e-5 of the scale, under
// 0.1 % of the table's smallest step), the 1/8192 folded into the scales.
// Group sums are widened to float once per chunk (a lane adds at most four
// products of 8,192 · 32,767), so every group size stays inside int32.

// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_* as an
// operand) when they are inlined into target-attributed functions.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "format/scheme.h"
#include "infer/aligned.h"
#include "infer/input_quant.h"
#include "infer/matrix.h"
#include "infer/simd_sum.h"
#include "util/error.h"
#include "util/kernel_path.h"

namespace itera {
namespace {

#define ITERA_AVX2 __attribute__((target("avx2,fma")))
#define ITERA_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512dq,avx2,fma")))

constexpr std::int64_t kChunk = 64;  // columns per packed chunk
constexpr float kNf4Unit = 8192.0f;  // nf4 codes in units of 1/8192

/// The 16 code values as int16: 0..15 for int4, round(NF4 · 8192) for nf4.
std::array<std::int16_t, 16> code_table(Scheme s) {
    std::array<std::int16_t, 16> t{};
    for (int i = 0; i < 16; ++i)
        t[static_cast<std::size_t>(i)] =
            s == Scheme::Nf4 ? static_cast<std::int16_t>(
                                   std::lrint(kNf4[static_cast<std::size_t>(i)] * kNf4Unit))
                             : static_cast<std::int16_t>(i);
    return t;
}

struct Layout {
    std::int64_t rows = 0, cols = 0, groups = 0, group = 0;
    std::int64_t padded = 0;     // columns rounded up to whole chunks
    std::int64_t row_bytes = 0;  // padded / 2
};

/// Where the scale / offset of (row r, group g) is kept: blocks of four rows
/// as [group][4], the rows after the last block row-major after them.
inline std::int64_t param_index(std::int64_t r, std::int64_t g, const Layout& L) {
    const std::int64_t full = L.rows / 4 * 4;
    if (r < full) return (r / 4 * L.groups + g) * 4 + r % 4;
    return full * L.groups + (r - full) * L.groups + g;
}

/// The code of weight (r, c) in the kernel's packing.
int code_at(const std::uint8_t* w, const Layout& L, std::int64_t r, std::int64_t c) {
    const std::int64_t j = c % kChunk;
    const std::uint8_t byte = w[r * L.row_bytes + c / kChunk * 32 + j % 32];
    return j < 32 ? byte & 15 : byte >> 4;
}

/// The scales of chunk k's two halves for the row block at r ([4] each, hi
/// null when the high half is padding), and whether both share one group.
struct ChunkScales {
    const float* lo;
    const float* hi;
    bool same;
};

/// The groups of a chunk's two 32-column halves (the SIMD paths need the
/// group size to be a multiple of 32, so each half lies in one group); lo ==
/// hi when both halves share it, hi ≥ groups when the high half is padding.
struct ChunkGroups {
    std::int64_t lo, hi;
};
inline ChunkGroups chunk_groups(std::int64_t k, const Layout& L) {
    return {k * kChunk / L.group, (k * kChunk + 32) / L.group};
}

inline ChunkScales chunk_scales(const float* scale, const Layout& L, std::int64_t r,
                                std::int64_t k) {
    const auto g = chunk_groups(k, L);
    const float* block = scale + r / 4 * L.groups * 4;
    return {block + g.lo * 4, g.hi < L.groups ? block + g.hi * 4 : nullptr, g.hi == g.lo};
}

/// y[r] for one row with exact integer sums per group; the reference the
/// SIMD paths follow, the path for rows after the last block of four and
/// for group sizes that are not a multiple of 32.
float row_scalar(const std::uint8_t* w, const float* scale, const Layout& L,
                 const std::array<std::int16_t, 16>& table, const std::int16_t* x, std::int64_t r) {
    float total = 0;
    std::int64_t sum = 0;
    for (std::int64_t c = 0; c < L.padded; ++c) {
        sum += table[static_cast<std::size_t>(code_at(w, L, r, c))] * x[c];
        const bool group_end = (c + 1) % L.group == 0 || c + 1 == L.padded;
        if (group_end && c / L.group < L.groups) {
            total += scale[param_index(r, c / L.group, L)] * static_cast<float>(sum);
            sum = 0;
        }
    }
    return total;
}

template <bool kNf4Codes>
ITERA_VNNI void block_vnni(const std::uint8_t* w, const float* scale, const Layout& L,
                           const std::int16_t* lut, const std::int16_t* x, std::int64_t r,
                           float* out) {
    const __m512i nib = _mm512_set1_epi16(15);
    __m512i table = _mm512_setzero_si512();
    if constexpr (kNf4Codes)
        table = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lut)));
    __m512 f[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
    const std::int64_t chunks = L.padded / kChunk;
    for (std::int64_t k = 0; k < chunks; ++k) {
        const __m512i xa = _mm512_loadu_si512(x + k * kChunk);
        const __m512i xb = _mm512_loadu_si512(x + k * kChunk + 32);
        const auto [s_lo, s_hi, same] = chunk_scales(scale, L, r, k);
        for (int i = 0; i < 4; ++i) {
            const std::uint8_t* p = w + (r + i) * L.row_bytes + k * 32;
            __builtin_prefetch(p + 256);
            const __m512i v =
                _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
            __m512i lo = _mm512_and_si512(v, nib), hi = _mm512_srli_epi16(v, 4);
            if constexpr (kNf4Codes) {
                lo = _mm512_permutexvar_epi16(lo, table);
                hi = _mm512_permutexvar_epi16(hi, table);
            }
            const __m512i zero = _mm512_setzero_si512();
            if (same) {
                const __m512i a = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(zero, lo, xa), hi, xb);
                f[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), _mm512_set1_ps(s_lo[i]), f[i]);
            } else {
                f[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpwssd_epi32(zero, lo, xa)),
                                       _mm512_set1_ps(s_lo[i]), f[i]);
                if (s_hi)
                    f[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpwssd_epi32(zero, hi, xb)),
                                           _mm512_set1_ps(s_hi[i]), f[i]);
            }
        }
    }
    // The four sums at once: halves added, then one hadd tree.
    const __m256 a0 = _mm256_add_ps(_mm512_castps512_ps256(f[0]), _mm512_extractf32x8_ps(f[0], 1));
    const __m256 a1 = _mm256_add_ps(_mm512_castps512_ps256(f[1]), _mm512_extractf32x8_ps(f[1], 1));
    const __m256 a2 = _mm256_add_ps(_mm512_castps512_ps256(f[2]), _mm512_extractf32x8_ps(f[2], 1));
    const __m256 a3 = _mm256_add_ps(_mm512_castps512_ps256(f[3]), _mm512_extractf32x8_ps(f[3], 1));
    _mm_storeu_ps(out, simd::hsum4(a0, a1, a2, a3));
}

/// The 16 int16 codes of the 16 nibbles in `idx` (bytes, 0..15) from the
/// table split into its low and high bytes.
ITERA_AVX2 inline __m256i lookup16(__m128i idx, __m128i lut_lo, __m128i lut_hi) {
    const __m128i l = _mm_shuffle_epi8(lut_lo, idx), h = _mm_shuffle_epi8(lut_hi, idx);
    return _mm256_set_m128i(_mm_unpackhi_epi8(l, h), _mm_unpacklo_epi8(l, h));
}

template <bool kNf4Codes>
ITERA_AVX2 void block_avx2(const std::uint8_t* w, const float* scale, const Layout& L,
                           const std::int16_t* lut, const std::int16_t* x, std::int64_t r,
                           float* out) {
    const __m128i nib8 = _mm_set1_epi8(15);
    __m128i lut_lo = _mm_setzero_si128(), lut_hi = lut_lo;
    if constexpr (kNf4Codes) {
        alignas(16) std::uint8_t lo_b[16], hi_b[16];
        for (int i = 0; i < 16; ++i) {
            lo_b[i] = static_cast<std::uint8_t>(lut[i] & 0xff);
            hi_b[i] = static_cast<std::uint8_t>((lut[i] >> 8) & 0xff);
        }
        lut_lo = _mm_load_si128(reinterpret_cast<const __m128i*>(lo_b));
        lut_hi = _mm_load_si128(reinterpret_cast<const __m128i*>(hi_b));
    }
    __m256 f[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
    const std::int64_t chunks = L.padded / kChunk;
    for (std::int64_t k = 0; k < chunks; ++k) {
        const std::int16_t* xk = x + k * kChunk;
        const auto [s_lo, s_hi, same] = chunk_scales(scale, L, r, k);
        for (int i = 0; i < 4; ++i) {
            const std::uint8_t* p = w + (r + i) * L.row_bytes + k * 32;
            __builtin_prefetch(p + 256);
            __m256i lo_sum = _mm256_setzero_si256(), hi_sum = lo_sum;
            for (int half = 0; half < 32; half += 16) {  // bytes 0–15, then 16–31
                const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + half));
                const __m128i lo8 = _mm_and_si128(v, nib8);
                const __m128i hi8 = _mm_and_si128(_mm_srli_epi16(v, 4), nib8);
                __m256i lo, hi;
                if constexpr (kNf4Codes) {
                    lo = lookup16(lo8, lut_lo, lut_hi);
                    hi = lookup16(hi8, lut_lo, lut_hi);
                } else {
                    lo = _mm256_cvtepu8_epi16(lo8);
                    hi = _mm256_cvtepu8_epi16(hi8);
                }
                const __m256i xl = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xk + half));
                const __m256i xh =
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xk + 32 + half));
                lo_sum = _mm256_add_epi32(lo_sum, _mm256_madd_epi16(lo, xl));
                hi_sum = _mm256_add_epi32(hi_sum, _mm256_madd_epi16(hi, xh));
            }
            if (same) {
                f[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(lo_sum, hi_sum)),
                                       _mm256_set1_ps(s_lo[i]), f[i]);
            } else {
                f[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lo_sum), _mm256_set1_ps(s_lo[i]), f[i]);
                if (s_hi)
                    f[i] =
                        _mm256_fmadd_ps(_mm256_cvtepi32_ps(hi_sum), _mm256_set1_ps(s_hi[i]), f[i]);
            }
        }
    }
    _mm_storeu_ps(out, simd::hsum4(f[0], f[1], f[2], f[3]));
}

class FourBitMatrix final : public Matrix {
public:
    explicit FourBitMatrix(const QuantizedMatrix& q)
        : Matrix(q.rows, q.cols), nf4_(q.scheme == Scheme::Nf4), table_(code_table(q.scheme)) {
        if (q.group_size < 16 || q.group_size % 16 != 0)
            throw Error("4-bit matrix: group size " + std::to_string(q.group_size) +
                        " is not a multiple of 16");
        const std::int64_t padded = (q.cols + kChunk - 1) / kChunk * kChunk;
        L_ = {q.rows, q.cols, q.groups(), q.group_size, padded, padded / 2};
        w_.assign(static_cast<std::size_t>(q.rows * L_.row_bytes), 0);
        for (std::int64_t r = 0; r < q.rows; ++r)
            for (std::int64_t c = 0; c < q.cols; ++c) {
                const std::int64_t j = c % kChunk;
                auto& byte =
                    w_[static_cast<std::size_t>(r * L_.row_bytes + c / kChunk * 32 + j % 32)];
                byte = static_cast<std::uint8_t>(byte |
                                                 (j < 32 ? q.nibble(r, c) : q.nibble(r, c) << 4));
            }
        const auto n = static_cast<std::size_t>(q.rows * L_.groups);
        scale_.assign(n, 0.0f);
        if (q.scheme == Scheme::Int4) offset_.assign(n, 0.0f);
        const float unit = nf4_ ? 1.0f / kNf4Unit : 1.0f;  // exact: a power of two
        for (std::int64_t r = 0; r < q.rows; ++r)
            for (std::int64_t g = 0; g < L_.groups; ++g) {
                const auto from = static_cast<std::size_t>(r * L_.groups + g);
                const auto to = static_cast<std::size_t>(param_index(r, g, L_));
                scale_[to] = q.scales[from] * unit;
                if (q.scheme == Scheme::Int4)  // (q − 8) · s = q · s − 8 · s when symmetric
                    offset_[to] = q.symmetric ? -8.0f * q.scales[from] : q.zeros[from];
            }
        bytes_ = q.stored_bytes();
    }

    void multiply(const float* x, std::int64_t batch, float* y, std::int64_t row_begin,
                  std::int64_t row_end) const override {
        thread_local QuantizedInput in;
        thread_local std::vector<float> sums;
        in.assign(x, batch, cols(), L_.padded);
        if (!offset_.empty()) {  // Σ x per group for the offsets, of the same rounded x
            sums.resize(static_cast<std::size_t>(batch * L_.groups));
            for (std::int64_t b = 0; b < batch; ++b) {
                const std::int16_t* q = in.q.data() + b * L_.padded;
                for (std::int64_t g = 0; g < L_.groups; ++g) {
                    std::int32_t total = 0;  // exact: at most 4,096 · 32,767
                    for (std::int64_t c = g * L_.group; c < std::min(cols(), (g + 1) * L_.group);
                         ++c)
                        total += q[c];
                    sums[static_cast<std::size_t>(b * L_.groups + g)] =
                        in.scale[static_cast<std::size_t>(b)] * static_cast<float>(total);
                }
            }
        }
        // Σ_g offset(r, g) · Σ x over group g of vector b (int4 only).
        auto offset_term = [&](std::int64_t b, std::int64_t r) {
            if (offset_.empty()) return 0.0f;
            float t = 0;
            for (std::int64_t g = 0; g < L_.groups; ++g)
                t += offset_[static_cast<std::size_t>(param_index(r, g, L_))] *
                     sums[static_cast<std::size_t>(b * L_.groups + g)];
            return t;
        };
        const std::int64_t full = rows() / 4 * 4;
        const KernelPath path = kernel_path();
        const bool simd = path != KernelPath::Scalar && L_.group % 32 == 0;
        const bool vnni = simd && path == KernelPath::Avx512Vnni;
        const std::int16_t* lut = table_.data();
        // Row blocks outside, vectors inside: a block's weights stay in L1 for the batch.
        std::int64_t r = row_begin;
        for (; r + 4 <= std::min(row_end, full) && simd; r += 4)
            for (std::int64_t b = 0; b < batch; ++b) {
                const std::int16_t* xb = in.q.data() + b * L_.padded;
                float dots[4];
                if (vnni)
                    nf4_ ? block_vnni<true>(w_.data(), scale_.data(), L_, lut, xb, r, dots)
                         : block_vnni<false>(w_.data(), scale_.data(), L_, lut, xb, r, dots);
                else
                    nf4_ ? block_avx2<true>(w_.data(), scale_.data(), L_, lut, xb, r, dots)
                         : block_avx2<false>(w_.data(), scale_.data(), L_, lut, xb, r, dots);
                const float sx = in.scale[static_cast<std::size_t>(b)];
                float off[4] = {0, 0, 0, 0};
                if (!offset_.empty()) {  // offsets of a block are stored [group][4 rows]
                    const float* o = offset_.data() + r / 4 * L_.groups * 4;
                    const float* xs = sums.data() + b * L_.groups;
                    for (std::int64_t g = 0; g < L_.groups; ++g)
                        for (int i = 0; i < 4; ++i) off[i] += o[g * 4 + i] * xs[g];
                }
                for (int i = 0; i < 4; ++i) y[b * rows() + r + i] = sx * dots[i] + off[i];
            }
        for (; r < row_end; ++r)
            for (std::int64_t b = 0; b < batch; ++b)
                y[b * rows() + r] = in.scale[static_cast<std::size_t>(b)] *
                                        row_scalar(w_.data(), scale_.data(), L_, table_,
                                                   in.q.data() + b * L_.padded, r) +
                                    offset_term(b, r);
    }

    void row(std::int64_t r, float* out) const override {
        for (std::int64_t c = 0; c < cols(); ++c) {
            const auto g = static_cast<std::size_t>(param_index(r, c / L_.group, L_));
            const int code = code_at(w_.data(), L_, r, c);
            out[c] = nf4_ ? kNf4[static_cast<std::size_t>(code)] * (scale_[g] * kNf4Unit)
                          : static_cast<float>(code) * scale_[g] + offset_[g];
        }
    }

    std::size_t bytes() const override { return bytes_; }
    std::string format() const override { return nf4_ ? "nf4" : "int4"; }

private:
    bool nf4_;
    std::array<std::int16_t, 16> table_;
    Layout L_{};
    AlignedVector<std::uint8_t> w_;  // 64-byte aligned: the kernels load whole chunks
    std::vector<float> scale_, offset_;
    std::size_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<Matrix> make_four_bit_matrix(const QuantizedMatrix& q) {
    if (q.scheme == Scheme::Int4 || q.scheme == Scheme::Nf4)
        return std::make_unique<FourBitMatrix>(q);
    throw Error("internal: not a 4-bit scheme");
}

}  // namespace itera
