#pragma once
// Weight storage schemes: one traits table (llama.cpp's type-traits idea), so
// a scheme's name, bits, stored parts and description live in one place and
// files, the store and the CLI all use its name, never a number.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace itera {

enum class Scheme { F32, F16, BF16, Int8, Int4, Nf4 };

struct SchemeTraits {
    Scheme scheme;
    std::string_view name;  ///< as in files, the CLI and the store
    int bits;               ///< bits per weight before scales
    bool integer;           ///< stored as X.qweight + X.scales (else under X itself)
    std::string_view description;
};

inline constexpr std::array<SchemeTraits, 6> kSchemes{{
    {Scheme::F32, "f32", 32, false, "IEEE float32, the training format"},
    {Scheme::F16, "f16", 16, false, "IEEE float16 (F16C converts in the kernel)"},
    {Scheme::BF16, "bf16", 16, false, "bfloat16: float32's range, 8 bits of mantissa"},
    {Scheme::Int8, "int8", 8, true,
     "symmetric int8 per output channel (row): w = q · scale[row], q in [-127, 127]"},
    {Scheme::Int4, "int4", 4, true,
     "4-bit groups along each row: w = q · scale + zero, q in [0, 15] (asymmetric, default) "
     "or w = (q − 8) · scale (symmetric); F16 scale (and zero) per group"},
    {Scheme::Nf4, "nf4", 4, true,
     "4-bit NormalFloat: w = NF4[q] · scale, the 16 quantiles of a normal, F16 absmax per group"},
}};

/// The NF4 code book (QLoRA): 16 values in [-1, 1], zero exact.
inline constexpr std::array<float, 16> kNf4 = {-1.0f,
                                               -0.6961928009986877f,
                                               -0.5250730514526367f,
                                               -0.39491748809814453f,
                                               -0.28444138169288635f,
                                               -0.18477343022823334f,
                                               -0.09105003625154495f,
                                               0.0f,
                                               0.07958029955625534f,
                                               0.16093020141124725f,
                                               0.24611230194568634f,
                                               0.33791524171829224f,
                                               0.44070982933044434f,
                                               0.5626170039176941f,
                                               0.7229568362236023f,
                                               1.0f};

const SchemeTraits& scheme_traits(Scheme s);
/// Inverse of scheme_traits(s).name, also accepting the names other tools use
/// (fp32, fp16, q8, q4, ...); throws itera::Error listing the names.
Scheme parse_scheme(std::string_view name);

/// How a matrix is to be stored.
struct QuantSettings {
    Scheme scheme = Scheme::F32;
    std::int64_t group_size = 64;  ///< int4 / nf4: columns per group (16 · k)
    bool symmetric = false;        ///< int4 only
};

/// A matrix in a scheme's stored form: what a compressed checkpoint holds for it.
struct QuantizedMatrix {
    Scheme scheme = Scheme::F32;
    std::int64_t rows = 0, cols = 0;
    std::vector<std::uint16_t> half;  ///< f16/bf16: rows × cols
    std::vector<std::int8_t> q;       ///< int8: rows × cols
    std::vector<float> scales;        ///< int8: one per row; int4/nf4: (rows, groups), F16-exact
    std::int64_t group_size = 0;      ///< int4 / nf4
    bool symmetric = false;           ///< int4
    std::vector<std::uint8_t>
        packed;                ///< int4/nf4: (rows, ceil(cols / 2)), low nibble = even column
    std::vector<float> zeros;  ///< asymmetric int4: (rows, groups), F16-exact

    std::int64_t groups() const { return group_size ? (cols + group_size - 1) / group_size : 0; }
    /// The 4-bit code of weight (r, c).
    int nibble(std::int64_t r, std::int64_t c) const {
        const auto byte = packed[static_cast<std::size_t>(r * ((cols + 1) / 2) + c / 2)];
        return c % 2 ? byte >> 4 : byte & 15;
    }

    /// Bytes this form takes in a file (data + scales).
    std::size_t stored_bytes() const;
};

/// Quantizes row-major `w` (rows × cols). Throws on a non-finite weight, a
/// value beyond f16's range, or a group size that is not a positive multiple of 16.
QuantizedMatrix quantize(const float* w, std::int64_t rows, std::int64_t cols,
                         const QuantSettings& settings);
inline QuantizedMatrix quantize(const float* w, std::int64_t rows, std::int64_t cols, Scheme s) {
    return quantize(w, rows, cols, QuantSettings{s});
}

/// The weights the stored form stands for, row-major (the slow, obvious reference).
std::vector<float> dequantize(const QuantizedMatrix& m);

/// How far a stored form is from the original: relative RMS error
/// ‖w − ŵ‖ / ‖w‖ and the signal-to-quantisation-noise ratio in dB.
struct QuantError {
    double rel_rms = 0;
    double sqnr_db = 0;
};
QuantError quant_error(const float* w, const QuantizedMatrix& m);

}  // namespace itera
