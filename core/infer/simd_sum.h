#pragma once
// Horizontal sums shared by the AVX2 decode kernels.

#include <immintrin.h>

namespace itera::simd {

/// [Σa0, Σa1, Σa2, Σa3] of four 8-float vectors with one hadd tree (instead
/// of four separate reductions).
__attribute__((target("avx2,fma"))) inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2,
                                                        __m256 a3) {
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

}  // namespace itera::simd
