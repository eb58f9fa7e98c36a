#include "train/adamw_kernel.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

#include "util/cpu_dispatch.h"

namespace itera::kernels {
namespace {

ITERA_KERNEL_CLONES
void update_range(float* __restrict p, const float* __restrict g, float* __restrict m,
                  float* __restrict v, std::int64_t begin, std::int64_t end, AdamWStep s) {
    const float decay = 1.0f - s.lr * s.weight_decay;
    const float step = s.lr / s.bias_correction1;
    const float inv_sqrt_bc2 = 1.0f / std::sqrt(s.bias_correction2);
#pragma omp simd
    for (std::int64_t i = begin; i < end; ++i) {
        const float gi = g[i] * s.grad_scale;
        const float mi = s.beta1 * m[i] + (1.0f - s.beta1) * gi;
        const float vi = s.beta2 * v[i] + (1.0f - s.beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - step * mi / (std::sqrt(vi) * inv_sqrt_bc2 + s.eps);
    }
}

ITERA_KERNEL_CLONES
double block_squares(const float* __restrict g, std::int64_t begin, std::int64_t end) {
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (std::int64_t i = begin; i < end; ++i) acc += g[i] * g[i];
    return acc;
}

constexpr std::int64_t kBlock = 1 << 14;

}  // namespace

void adamw_update(float* p, const float* g, float* m, float* v, std::int64_t n,
                  const AdamWStep& s) {
    at::parallel_for(0, n, kBlock, [&](std::int64_t begin, std::int64_t end) {
        update_range(p, g, m, v, begin, end, s);
    });
}

double sum_of_squares(const float* g, std::int64_t n) {
    const std::int64_t blocks = (n + kBlock - 1) / kBlock;
    std::vector<double> partial(static_cast<std::size_t>(blocks));
    at::parallel_for(0, blocks, 1, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t b = begin; b < end; ++b)
            partial[b] = block_squares(g, b * kBlock, std::min(n, (b + 1) * kBlock));
    });
    double total = 0;
    for (double x : partial) total += x;
    return total;
}

}  // namespace itera::kernels
