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

enum class Scheme { F32, F16, BF16, Int8 };

struct SchemeTraits {
    Scheme scheme;
    std::string_view name;  ///< as in files, the CLI and the store
    int bits;               ///< bits per weight before scales
    bool integer;           ///< stored as X.qweight + X.scales (else under X itself)
    std::string_view description;
};

inline constexpr std::array<SchemeTraits, 4> kSchemes{{
    {Scheme::F32, "f32", 32, false, "IEEE float32, the training format"},
    {Scheme::F16, "f16", 16, false, "IEEE float16 (F16C converts in the kernel)"},
    {Scheme::BF16, "bf16", 16, false, "bfloat16: float32's range, 8 bits of mantissa"},
    {Scheme::Int8, "int8", 8, true,
     "symmetric int8 per output channel (row): w = q · scale[row], q in [-127, 127]"},
}};

const SchemeTraits& scheme_traits(Scheme s);
/// Inverse of scheme_traits(s).name; throws itera::Error listing the names.
Scheme parse_scheme(std::string_view name);

/// How one tensor is stored.
struct TensorQuant {
    Scheme scheme = Scheme::F32;
};

/// A matrix in a scheme's stored form: what a compressed checkpoint holds for it.
struct QuantizedMatrix {
    Scheme scheme = Scheme::F32;
    std::int64_t rows = 0, cols = 0;
    std::vector<std::uint16_t> half;  ///< f16/bf16: rows × cols
    std::vector<std::int8_t> q;       ///< int8: rows × cols
    std::vector<float> scales;        ///< int8: one per row

    /// Bytes this form takes in a file (data + scales).
    std::size_t stored_bytes() const;
};

/// Quantizes row-major `w` (rows × cols).
QuantizedMatrix quantize(const float* w, std::int64_t rows, std::int64_t cols, Scheme scheme);

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
