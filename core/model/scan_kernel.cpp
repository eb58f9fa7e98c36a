#include "model/scan_kernel.h"

#include <ATen/Parallel.h>

#include <vector>

#include "model/simd_math.h"
#include "util/cpu_dispatch.h"

namespace itera::kernels {
namespace {

constexpr std::int64_t CB = kScanChannelBlock;

ITERA_KERNEL_CLONES
void forward_block(const ScanParams& p, std::int64_t b, std::int64_t c0, std::int64_t cn,
                   float* y, float* h_last) {
    const std::int64_t T = p.length, C = p.channels, N = p.state;
    std::vector<float> h(static_cast<std::size_t>(N * CB), 0.0f);  // (N, CB)
    if (p.h0) {
        for (std::int64_t c = 0; c < cn; ++c)
            for (std::int64_t n = 0; n < N; ++n) h[n * CB + c] = p.h0[(b * C + c0 + c) * N + n];
    }
    float dt[CB], du[CB], acc[CB];
    const float* bias = p.delta_bias + c0;
    const float* D = p.D + c0;
    for (std::int64_t t = 0; t < T; ++t) {
        const std::int64_t row = b * T + t;
        const float* ur = p.u + row * C + c0;
        const float* dr = p.delta + row * C + c0;
        for (std::int64_t c = 0; c < cn; ++c) {
            dt[c] = simd::softplus(dr[c] + bias[c]);
            du[c] = dt[c] * ur[c];
            acc[c] = D[c] * ur[c];
        }
        const float* Br = p.Bm + row * N;
        const float* Cr = p.Cm + row * N;
        for (std::int64_t n = 0; n < N; ++n) {
            float* hn = h.data() + n * CB;
            const float* An = p.A_t + n * C + c0;
            const float bn = Br[n], cv = Cr[n];
            for (std::int64_t c = 0; c < cn; ++c) {
                hn[c] = simd::exp(dt[c] * An[c]) * hn[c] + du[c] * bn;
                acc[c] += hn[c] * cv;
            }
        }
        float* yr = y + row * C + c0;
        for (std::int64_t c = 0; c < cn; ++c) yr[c] = acc[c];
    }
    if (h_last) {
        for (std::int64_t c = 0; c < cn; ++c)
            for (std::int64_t n = 0; n < N; ++n) h_last[(b * C + c0 + c) * N + n] = h[n * CB + c];
    }
}

ITERA_KERNEL_CLONES
void backward_block(const ScanParams& p, const float* dy, const ScanGrads& g, std::int64_t b,
                    std::int64_t blk, std::int64_t c0, std::int64_t cn) {
    const std::int64_t T = p.length, C = p.channels, N = p.state, B = p.batch;
    const std::int64_t NCB = N * CB;
    // Recompute the forward: hs[t + 1] = h_t, hs[0] = 0; dts[t] = softplus(delta + bias).
    std::vector<float> hs(static_cast<std::size_t>((T + 1) * NCB), 0.0f);
    std::vector<float> dts(static_cast<std::size_t>(T * CB), 0.0f);
    const float* bias = p.delta_bias + c0;
    const float* D = p.D + c0;
    for (std::int64_t t = 0; t < T; ++t) {
        const std::int64_t row = b * T + t;
        const float* ur = p.u + row * C + c0;
        const float* dr = p.delta + row * C + c0;
        float* dt = dts.data() + t * CB;
        float du[CB];
        for (std::int64_t c = 0; c < cn; ++c) {
            dt[c] = simd::softplus(dr[c] + bias[c]);
            du[c] = dt[c] * ur[c];
        }
        const float* Br = p.Bm + row * N;
        const float* prev = hs.data() + t * NCB;
        float* cur = hs.data() + (t + 1) * NCB;
        for (std::int64_t n = 0; n < N; ++n) {
            const float* An = p.A_t + n * C + c0;
            const float bn = Br[n];
            for (std::int64_t c = 0; c < cn; ++c)
                cur[n * CB + c] = simd::exp(dt[c] * An[c]) * prev[n * CB + c] + du[c] * bn;
        }
    }

    std::vector<float> dh(static_cast<std::size_t>(NCB), 0.0f);
    std::vector<float> dA(static_cast<std::size_t>(NCB), 0.0f);
    float dD[CB] = {}, dbias[CB] = {};
    for (std::int64_t t = T - 1; t >= 0; --t) {
        const std::int64_t row = b * T + t;
        const float* ur = p.u + row * C + c0;
        const float* dr = p.delta + row * C + c0;
        const float* dyr = dy + row * C + c0;
        const float* dt = dts.data() + t * CB;
        const float* Br = p.Bm + row * N;
        const float* Cr = p.Cm + row * N;
        const float* hprev = hs.data() + t * NCB;
        const float* hcur = hs.data() + (t + 1) * NCB;
        float du[CB], ddt[CB];
        for (std::int64_t c = 0; c < cn; ++c) {
            dD[c] += dyr[c] * ur[c];
            du[c] = dyr[c] * D[c];
            ddt[c] = 0.0f;
        }
        float* dBr = g.dB_part + ((blk * B + b) * T + t) * N;
        float* dCr = g.dC_part + ((blk * B + b) * T + t) * N;
        for (std::int64_t n = 0; n < N; ++n) {
            const float* An = p.A_t + n * C + c0;
            const float bn = Br[n], cv = Cr[n];
            float* dhn = dh.data() + n * CB;
            float* dAn = dA.data() + n * CB;
            const float* hp = hprev + n * CB;
            const float* hc = hcur + n * CB;
            float sB = 0.0f, sC = 0.0f;
#pragma omp simd reduction(+ : sB, sC)
            for (std::int64_t c = 0; c < cn; ++c) {
                const float a = simd::exp(dt[c] * An[c]);
                const float gh = dhn[c] + dyr[c] * cv;  // dL/dh_t
                const float ah = a * hp[c];
                sC += dyr[c] * hc[c];
                ddt[c] += gh * (An[c] * ah + bn * ur[c]);
                dAn[c] += gh * dt[c] * ah;
                sB += gh * dt[c] * ur[c];
                du[c] += gh * dt[c] * bn;
                dhn[c] = gh * a;
            }
            dBr[n] = sB;
            dCr[n] = sC;
        }
        float* dur = g.du + row * C + c0;
        float* ddr = g.ddelta + row * C + c0;
        for (std::int64_t c = 0; c < cn; ++c) {
            const float d = ddt[c] * simd::sigmoid(dr[c] + bias[c]);  // softplus' = sigmoid
            ddr[c] = d;
            dbias[c] += d;
            dur[c] = du[c];
        }
    }
    for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t c = 0; c < cn; ++c) g.dA_t_part[(b * N + n) * C + c0 + c] = dA[n * CB + c];
    for (std::int64_t c = 0; c < cn; ++c) {
        g.dD_part[b * C + c0 + c] = dD[c];
        g.dbias_part[b * C + c0 + c] = dbias[c];
    }
}

template <class F>
void for_each_block(const ScanParams& p, F&& f) {
    const std::int64_t blocks = scan_channel_blocks(p.channels);
    at::parallel_for(0, p.batch * blocks, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const std::int64_t b = i / blocks, blk = i % blocks;
            const std::int64_t c0 = blk * CB;
            const std::int64_t cn = p.channels - c0 < CB ? p.channels - c0 : CB;
            f(b, blk, c0, cn);
        }
    });
}

}  // namespace

void scan_forward(const ScanParams& p, float* y, float* h_last) {
    for_each_block(p, [&](std::int64_t b, std::int64_t, std::int64_t c0, std::int64_t cn) {
        forward_block(p, b, c0, cn, y, h_last);
    });
}

void scan_backward(const ScanParams& p, const float* dy, const ScanGrads& g) {
    for_each_block(p, [&](std::int64_t b, std::int64_t blk, std::int64_t c0, std::int64_t cn) {
        backward_block(p, dy, g, b, blk, c0, cn);
    });
}

}  // namespace itera::kernels
