#pragma once
// IEEE half (F16) and bfloat16 (BF16) conversions, scalar and exact:
// float → 16 bits rounds to nearest even (NaN stays NaN, overflow → ±inf).

#include <cstdint>
#include <cstring>

namespace itera {

inline std::uint32_t float_bits(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

inline float bits_float(std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

inline std::uint16_t float_to_bf16(float f) {
    const std::uint32_t u = float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return static_cast<std::uint16_t>((u >> 16) | 0x40);  // quiet NaN
    return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

inline float bf16_to_float(std::uint16_t h) {
    return bits_float(static_cast<std::uint32_t>(h) << 16);
}

inline float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (man << 13));  // inf / NaN
    if (exp == 0) {                                                        // zero / subnormal
        const float v = static_cast<float>(man) * 5.9604644775390625e-8f;  // man · 2^-24
        return sign ? -v : v;
    }
    return bits_float(sign | ((exp + 112u) << 23) | (man << 13));
}

inline std::uint16_t float_to_half(float f) {
    const std::uint32_t u = float_bits(f);
    const std::uint32_t sign = (u >> 16) & 0x8000u;
    const std::uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);   // NaN
    if (a >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // ≥ 65520: inf
    if (a < 0x38800000u) {  // below 2^-14: subnormal half, rounded to nearest even
        const float v = bits_float(a) * 16777216.0f;  // · 2^24: units of the smallest subnormal
        std::uint32_t m = static_cast<std::uint32_t>(v);
        const float rest = v - static_cast<float>(m);
        if (rest > 0.5f || (rest == 0.5f && (m & 1u))) ++m;
        return static_cast<std::uint16_t>(sign | m);
    }
    const std::uint32_t r = a + 0xfffu + ((a >> 13) & 1u);  // round the 13 dropped bits
    return static_cast<std::uint16_t>(sign | ((r - 0x38000000u) >> 13));
}

}  // namespace itera
