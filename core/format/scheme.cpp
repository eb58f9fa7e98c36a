#include "format/scheme.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "format/half.h"
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
    // The names users of other tools type for the same formats.
    static constexpr std::pair<std::string_view, Scheme> kAliases[] = {
        {"fp32", Scheme::F32},    {"float32", Scheme::F32}, {"fp16", Scheme::F16},
        {"float16", Scheme::F16}, {"half", Scheme::F16},    {"bfloat16", Scheme::BF16},
        {"q8", Scheme::Int8},     {"q8_0", Scheme::Int8},   {"int8_t", Scheme::Int8},
        {"q4", Scheme::Int4},     {"q4_0", Scheme::Int4}};
    for (const auto& [alias, scheme] : kAliases)
        if (alias == name) return scheme;
    throw Error("unknown scheme \"" + std::string(name) + "\" (expected one of " + names +
                "; fp32, fp16, q8 and q4 are accepted for f32, f16, int8 and int4)");
}

std::size_t QuantizedMatrix::stored_bytes() const {
    const bool grouped = scheme == Scheme::Int4 || scheme == Scheme::Nf4;
    const std::size_t scale_bytes = grouped ? 2 : 4;  // F16 per group, F32 per int8 row
    return half.size() * sizeof(std::uint16_t) + q.size() + packed.size() +
           (scales.size() + zeros.size()) * scale_bytes;
}

namespace {

float f16_exact(float v) {
    return half_to_float(float_to_half(v));
}

/// The nearest NF4 code to v (in [-1, 1]).
int nearest_nf4(float v) {
    int best = 0;
    for (int i = 1; i < 16; ++i)
        if (std::abs(kNf4[static_cast<std::size_t>(i)] - v) <
            std::abs(kNf4[static_cast<std::size_t>(best)] - v))
            best = i;
    return best;
}

void quantize_groups(const float* w, QuantizedMatrix& m) {
    const std::int64_t g = m.group_size, G = m.groups(), half_cols = (m.cols + 1) / 2;
    m.packed.assign(static_cast<std::size_t>(m.rows * half_cols), 0);
    m.scales.assign(static_cast<std::size_t>(m.rows * G), 0.0f);
    if (m.scheme == Scheme::Int4 && !m.symmetric)
        m.zeros.assign(static_cast<std::size_t>(m.rows * G), 0.0f);
    for (std::int64_t r = 0; r < m.rows; ++r)
        for (std::int64_t gi = 0; gi < G; ++gi) {
            const std::int64_t c0 = gi * g, c1 = std::min(m.cols, c0 + g);
            float mn = w[r * m.cols + c0], mx = mn, amax = 0;
            for (std::int64_t c = c0; c < c1; ++c) {
                const float v = w[r * m.cols + c];
                mn = std::min(mn, v);
                mx = std::max(mx, v);
                amax = std::max(amax, std::abs(v));
            }
            float scale = 0, zero = 0;
            if (m.scheme == Scheme::Nf4) {
                scale = f16_exact(amax);
            } else if (m.symmetric) {
                scale = f16_exact(amax / 7.0f);
            } else {
                zero = f16_exact(mn);
                scale = f16_exact((mx - zero) / 15.0f);
            }
            const auto gs = static_cast<std::size_t>(r * G + gi);
            m.scales[gs] = scale;
            if (!m.zeros.empty()) m.zeros[gs] = zero;
            for (std::int64_t c = c0; c < c1; ++c) {
                const float v = w[r * m.cols + c];
                int q = 0;
                if (m.scheme == Scheme::Nf4)
                    q = scale > 0 ? nearest_nf4(v / scale) : 7;  // code 7 is 0
                else if (m.symmetric)
                    q = scale > 0
                            ? static_cast<int>(std::clamp(std::nearbyint(v / scale), -8.0f, 7.0f)) +
                                  8
                            : 8;
                else
                    q = scale > 0 ? static_cast<int>(
                                        std::clamp(std::nearbyint((v - zero) / scale), 0.0f, 15.0f))
                                  : 0;
                auto& byte = m.packed[static_cast<std::size_t>(r * half_cols + c / 2)];
                byte = static_cast<std::uint8_t>(byte | (c % 2 ? q << 4 : q));
            }
        }
}

}  // namespace

QuantizedMatrix quantize(const float* w, std::int64_t rows, std::int64_t cols,
                         const QuantSettings& settings) {
    if (rows < 1 || cols < 1) throw Error("quantize: empty matrix");
    const Scheme scheme = settings.scheme;
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
        case Scheme::Int4:
        case Scheme::Nf4:
            if (settings.group_size < 16 || settings.group_size % 16 || settings.group_size > 4096)
                throw Error("quantize: group size " + std::to_string(settings.group_size) +
                            " is not a multiple of 16 in [16, 4096]");
            m.group_size = settings.group_size;
            m.symmetric = scheme == Scheme::Int4 && settings.symmetric;
            quantize_groups(w, m);
            break;
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
        case Scheme::Int4:
        case Scheme::Nf4:
            for (std::int64_t r = 0; r < m.rows; ++r)
                for (std::int64_t c = 0; c < m.cols; ++c) {
                    const auto gs = static_cast<std::size_t>(r * m.groups() + c / m.group_size);
                    const int q = m.nibble(r, c);
                    float v = 0;
                    if (m.scheme == Scheme::Nf4)
                        v = kNf4[static_cast<std::size_t>(q)] * m.scales[gs];
                    else if (m.symmetric)
                        v = static_cast<float>(q - 8) * m.scales[gs];
                    else
                        v = static_cast<float>(q) * m.scales[gs] + m.zeros[gs];
                    out[static_cast<std::size_t>(r * m.cols + c)] = v;
                }
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
