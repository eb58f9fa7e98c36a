#include "compress/scheme.h"

#include <algorithm>
#include <cmath>

#include "compress/half.h"
#include "util/error.h"

namespace itera {

const SchemeTraits& scheme_traits(Scheme s) {
    for (const auto& t : kSchemes)
        if (t.scheme == s) return t;
    throw Error("internal: unknown scheme");
}

Scheme parse_scheme(std::string_view name) {
    std::string names;
    for (const auto& t : kSchemes) {
        if (t.name == name) return t.scheme;
        names += (names.empty() ? "" : ", ") + std::string(t.name);
    }
    throw Error("unknown scheme \"" + std::string(name) + "\" (expected one of " + names + ")");
}

std::size_t QuantizedMatrix::stored_bytes() const {
    return half.size() * sizeof(std::uint16_t) + q.size() + scales.size() * sizeof(float);
}

QuantizedMatrix quantize(const float* w, std::int64_t rows, std::int64_t cols, Scheme scheme) {
    if (rows < 1 || cols < 1) throw Error("quantize: empty matrix");
    QuantizedMatrix m;
    m.scheme = scheme;
    m.rows = rows;
    m.cols = cols;
    const auto n = static_cast<std::size_t>(rows * cols);
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(w[i]))
            throw Error("quantize: weight (" + std::to_string(i / static_cast<std::size_t>(cols)) +
                        ", " + std::to_string(i % static_cast<std::size_t>(cols)) +
                        ") is not finite");
        if (scheme == Scheme::F16 && std::abs(w[i]) >= 65520.0f)
            throw Error("quantize: weight " + std::to_string(w[i]) +
                        " is beyond f16's range (65504)");
    }
    switch (scheme) {
        case Scheme::F32:
            throw Error("quantize: f32 is the source format, nothing to quantize");
        case Scheme::F16:
            m.half.resize(n);
            for (std::size_t i = 0; i < n; ++i) m.half[i] = float_to_half(w[i]);
            break;
        case Scheme::BF16:
            m.half.resize(n);
            for (std::size_t i = 0; i < n; ++i) m.half[i] = float_to_bf16(w[i]);
            break;
        case Scheme::Int8:
            m.q.resize(n);
            m.scales.resize(static_cast<std::size_t>(rows));
            for (std::int64_t r = 0; r < rows; ++r) {
                const float* row = w + r * cols;
                float amax = 0;
                for (std::int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::abs(row[c]));
                const float scale = amax > 0 ? amax / 127.0f : 1.0f;
                m.scales[static_cast<std::size_t>(r)] = scale;
                for (std::int64_t c = 0; c < cols; ++c)
                    m.q[static_cast<std::size_t>(r * cols + c)] = static_cast<std::int8_t>(
                        std::clamp(std::nearbyint(row[c] / scale), -127.0f, 127.0f));
            }
            break;
    }
    return m;
}

std::vector<float> dequantize(const QuantizedMatrix& m) {
    const auto n = static_cast<std::size_t>(m.rows * m.cols);
    std::vector<float> out(n);
    switch (m.scheme) {
        case Scheme::F32:
            throw Error("dequantize: not a quantized matrix");
        case Scheme::F16:
            for (std::size_t i = 0; i < n; ++i) out[i] = half_to_float(m.half[i]);
            break;
        case Scheme::BF16:
            for (std::size_t i = 0; i < n; ++i) out[i] = bf16_to_float(m.half[i]);
            break;
        case Scheme::Int8:
            for (std::size_t i = 0; i < n; ++i)
                out[i] =
                    static_cast<float>(m.q[i]) * m.scales[i / static_cast<std::size_t>(m.cols)];
            break;
    }
    return out;
}

QuantError quant_error(const float* w, const QuantizedMatrix& m) {
    const auto d = dequantize(m);
    double signal = 0, noise = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        signal += static_cast<double>(w[i]) * w[i];
        const double e = static_cast<double>(w[i]) - d[i];
        noise += e * e;
    }
    QuantError q;
    q.rel_rms = signal > 0 ? std::sqrt(noise / signal) : 0.0;
    q.sqnr_db = noise > 0 ? 10.0 * std::log10(signal / noise) : INFINITY;
    return q;
}

}  // namespace itera
