#pragma once
// Scalar math written so that GCC/Clang vectorise loops calling it (no libm
// calls, no branches): the hot kernels inline these inside their channel loops.

#include <cstdint>
#include <cstring>

namespace itera::simd {

/// exp(x) for x in float range; relative error below 2e-7 (Cephes polynomial).
/// NaN in, NaN out (selected, so the integer arithmetic never sees it).
inline float exp(float x_in) {
    const bool nan = x_in != x_in;
    float x = nan ? 0.0f : x_in;
    x = x < -87.33654f ? -87.33654f : x;
    x = x > 88.72283f ? 88.72283f : x;
    // k = round(x / ln 2) by the 1.5*2^23 trick: no rounding instruction needed.
    float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    std::int32_t bits = (static_cast<std::int32_t>(k) + 127) << 23;  // k in [-126, 128]
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return nan ? x_in : p * scale;
}

/// log(x) for x > 0 (normal range); relative error below 3e-7 (Cephes polynomial).
inline float log(float x) {
    std::int32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    std::int32_t e = ((bits >> 23) & 0xff) - 126;
    bits = (bits & 0x007fffff) | 0x3f000000;  // mantissa in [0.5, 1)
    float m;
    std::memcpy(&m, &bits, sizeof m);
    float fe = static_cast<float>(e);
    // Fold m into [sqrt(0.5), sqrt(2)).
    bool small = m < 0.707106781186547524f;
    fe = small ? fe - 1.0f : fe;
    float t = small ? m + m - 1.0f : m - 1.0f;
    float z = t * t;
    float p = 7.0376836292e-2f;
    p = p * t - 1.1514610310e-1f;
    p = p * t + 1.1676998740e-1f;
    p = p * t - 1.2420140846e-1f;
    p = p * t + 1.4249322787e-1f;
    p = p * t - 1.6668057665e-1f;
    p = p * t + 2.0000714765e-1f;
    p = p * t - 2.4999993993e-1f;
    p = p * t + 3.3333331174e-1f;
    float y = p * t * z - 0.5f * z + t;
    return y + fe * 0.693147180559945f;
}

/// log(1 + u) for u >= 0, accurate for tiny u (Goldberg's correction).
inline float log1p(float u) {
    float w = 1.0f + u;
    float den = w - 1.0f;
    float q = den == 0.0f ? 1.0f : u / den;
    return den == 0.0f ? u : log(w) * q;
}

/// softplus(x) = log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)).
inline float softplus(float x) {
    float ax = x < 0.0f ? -x : x;
    float pos = x > 0.0f ? x : 0.0f;
    return pos + log1p(exp(-ax));
}

inline float sigmoid(float x) {
    return 1.0f / (1.0f + exp(-x));
}

inline float silu(float x) {
    return x * sigmoid(x);
}

/// erf(x) as a rational function on [-4, 4] (erf is ±1 in float beyond);
/// absolute error below 1e-6 (the minimax fit used by Eigen and XLA).
inline float erf(float x_in) {
    float x = x_in < -4.0f ? -4.0f : (x_in > 4.0f ? 4.0f : x_in);
    float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    p = p * x;
    float q = -1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return p / q;
}

/// The exact (erf) GELU of the spec: x · Φ(x) = 0.5 · x · (1 + erf(x / √2)).
inline float gelu(float x) {
    return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f));
}

}  // namespace itera::simd
