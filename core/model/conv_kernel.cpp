#include "model/conv_kernel.h"

#include <ATen/Parallel.h>

#include <vector>

#include "model/simd_math.h"
#include "util/cpu_dispatch.h"

namespace itera::kernels {
namespace {

constexpr std::int64_t CB = 64;

// Input at time ti (may be negative: taken from the tail or zero).
inline const float* input_row(const ConvParams& p, std::int64_t b, std::int64_t ti) {
    if (ti >= 0) return p.x + (b * p.length + ti) * p.x_row_stride;
    if (!p.tail) return nullptr;
    return p.tail + (b * (p.kernel - 1) + (p.kernel - 1 + ti)) * p.channels;
}

ITERA_KERNEL_CLONES
void pre_activation(const ConvParams& p, std::int64_t b, std::int64_t t, std::int64_t c0,
                    std::int64_t cn, float* acc) {
    const std::int64_t K = p.kernel, C = p.channels;
    for (std::int64_t c = 0; c < cn; ++c) acc[c] = p.bias[c0 + c];
    for (std::int64_t j = 0; j < K; ++j) {
        const float* xr = input_row(p, b, t - K + 1 + j);
        if (!xr) continue;
        const float* w = p.w_t + j * C + c0;
        xr += c0;
        for (std::int64_t c = 0; c < cn; ++c) acc[c] += w[c] * xr[c];
    }
}

ITERA_KERNEL_CLONES
void forward_block(const ConvParams& p, std::int64_t b, std::int64_t c0, std::int64_t cn,
                   float* out) {
    float acc[CB];
    for (std::int64_t t = 0; t < p.length; ++t) {
        pre_activation(p, b, t, c0, cn, acc);
        float* o = out + (b * p.length + t) * p.channels + c0;
        for (std::int64_t c = 0; c < cn; ++c) o[c] = simd::silu(acc[c]);
    }
}

ITERA_KERNEL_CLONES
void backward_block(const ConvParams& p, const float* dout, float* dx, float* dw_part,
                    float* dbias_part, std::int64_t b, std::int64_t c0, std::int64_t cn) {
    const std::int64_t T = p.length, C = p.channels, K = p.kernel;
    for (std::int64_t t = 0; t < T; ++t) {
        float* d = dx + (b * T + t) * C + c0;
        for (std::int64_t c = 0; c < cn; ++c) d[c] = 0.0f;
    }
    std::vector<float> dw(static_cast<std::size_t>(K * CB), 0.0f);
    float dbias[CB] = {}, acc[CB], dpre[CB];
    for (std::int64_t t = 0; t < T; ++t) {
        pre_activation(p, b, t, c0, cn, acc);
        const float* g = dout + (b * T + t) * C + c0;
        for (std::int64_t c = 0; c < cn; ++c) {
            const float s = simd::sigmoid(acc[c]);
            dpre[c] = g[c] * s * (1.0f + acc[c] * (1.0f - s));  // silu'(x) = s (1 + x (1 - s))
            dbias[c] += dpre[c];
        }
        for (std::int64_t j = 0; j < K; ++j) {
            const std::int64_t ti = t - K + 1 + j;
            if (ti < 0) continue;
            const float* xr = p.x + (b * T + ti) * p.x_row_stride + c0;
            const float* w = p.w_t + j * C + c0;
            float* dxr = dx + (b * T + ti) * C + c0;
            float* dwj = dw.data() + j * CB;
            for (std::int64_t c = 0; c < cn; ++c) {
                dxr[c] += w[c] * dpre[c];
                dwj[c] += dpre[c] * xr[c];
            }
        }
    }
    for (std::int64_t j = 0; j < K; ++j)
        for (std::int64_t c = 0; c < cn; ++c) dw_part[(b * K + j) * C + c0 + c] = dw[j * CB + c];
    for (std::int64_t c = 0; c < cn; ++c) dbias_part[b * C + c0 + c] = dbias[c];
}

template <class F>
void for_each_block(const ConvParams& p, F&& f) {
    const std::int64_t blocks = (p.channels + CB - 1) / CB;
    at::parallel_for(0, p.batch * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const std::int64_t b = i / blocks, c0 = (i % blocks) * CB;
            f(b, c0, p.channels - c0 < CB ? p.channels - c0 : CB);
        }
    });
}

}  // namespace

void conv_silu_forward(const ConvParams& p, float* out) {
    for_each_block(p, [&](std::int64_t b, std::int64_t c0, std::int64_t cn) {
        forward_block(p, b, c0, cn, out);
    });
}

void conv_silu_backward(const ConvParams& p, const float* dout, float* dx, float* dw_part,
                        float* dbias_part) {
    for_each_block(p, [&](std::int64_t b, std::int64_t c0, std::int64_t cn) {
        backward_block(p, dout, dx, dw_part, dbias_part, b, c0, cn);
    });
}

}  // namespace itera::kernels
