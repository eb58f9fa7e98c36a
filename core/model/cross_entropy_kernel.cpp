#include "model/cross_entropy_kernel.h"

#include <ATen/Parallel.h>

#include "model/simd_math.h"
#include "util/cpu_dispatch.h"

namespace itera::kernels {
namespace {

ITERA_KERNEL_CLONES
float row_lse(const float* x, std::int64_t V) {
    float m = x[0];
#pragma omp simd reduction(max : m)
    for (std::int64_t v = 0; v < V; ++v) m = x[v] > m ? x[v] : m;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (std::int64_t v = 0; v < V; ++v) s += simd::exp(x[v] - m);
    return m + simd::log(s);
}

ITERA_KERNEL_CLONES
void row_grad(const float* x, std::int64_t V, float lse, float scale, float* g) {
    for (std::int64_t v = 0; v < V; ++v) g[v] = scale * simd::exp(x[v] - lse);
}

}  // namespace

void cross_entropy_forward(const float* logits, std::int64_t M, std::int64_t V,
                           const std::int64_t* targets, std::int64_t ignore_index, float* lse,
                           float* row_loss) {
    at::parallel_for(0, M, 16, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t m = begin; m < end; ++m) {
            const float* x = logits + m * V;
            lse[m] = row_lse(x, V);
            row_loss[m] = targets[m] == ignore_index ? 0.0f : lse[m] - x[targets[m]];
        }
    });
}

void cross_entropy_backward(const float* logits, std::int64_t M, std::int64_t V,
                            const std::int64_t* targets, std::int64_t ignore_index,
                            const float* lse, float scale, float* grad) {
    at::parallel_for(0, M, 16, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t m = begin; m < end; ++m) {
            float* g = grad + m * V;
            if (targets[m] == ignore_index) {
                for (std::int64_t v = 0; v < V; ++v) g[v] = 0.0f;
                continue;
            }
            row_grad(logits + m * V, V, lse[m], scale, g);
            g[targets[m]] -= scale;
        }
    });
}

}  // namespace itera::kernels
