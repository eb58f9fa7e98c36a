#pragma once
// The integer matrix kernels (int8, int4, nf4) multiply integer weights by
// the input vector rounded to 16-bit fixed point, so the inner loop is an
// integer multiply-add (VPMADDWD on AVX2, VPDPWSSD with AVX-512 VNNI)
// instead of widening every weight to float. Each vector gets its own scale
// s = max|x| / 32767 and x_c ≈ s · q_c with |x_c − s · q_c| ≤ s / 2: a
// rounding of at most 1.5e-5 of the vector's largest element, three orders
// of magnitude below the weights' own quantisation error.

#include <cstdint>
#include <vector>

#include "infer/aligned.h"

namespace itera {

/// Rounds `cols` floats to int16 (q[c] = round(x[c] / s)) and returns s; q
/// must hold `cols` values. An all-zero x gives s = 0, a non-finite one NaN
/// (so the product comes out NaN, as a float kernel's would).
float quantize_input(const float* x, std::int64_t cols, std::int16_t* q);

/// `batch` vectors of `cols` floats as int16 rows of `stride` (≥ cols,
/// zero-padded) plus one scale per vector.
struct QuantizedInput {
    AlignedVector<std::int16_t> q;  ///< batch × stride, 64-byte aligned
    std::vector<float> scale;       ///< batch
    std::int64_t stride = 0;

    void assign(const float* x, std::int64_t batch, std::int64_t cols, std::int64_t padded) {
        stride = padded;
        q.resize(static_cast<std::size_t>(batch * padded));
        scale.resize(static_cast<std::size_t>(batch));
        for (std::int64_t b = 0; b < batch; ++b) {
            std::int16_t* qb = q.data() + b * padded;
            scale[static_cast<std::size_t>(b)] = quantize_input(x + b * cols, cols, qb);
            for (std::int64_t c = cols; c < padded; ++c) qb[c] = 0;
        }
    }
};

}  // namespace itera
