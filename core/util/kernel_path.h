#pragma once
// Which instruction set the integer decode kernels (int8, int4, nf4 and the
// input rounding) use: the widest this CPU has, unless capped — by the
// ITERA_KERNELS environment variable (scalar, avx2, avx512) or by tests
// that run every path on one machine.

namespace itera {

enum class KernelPath { Scalar = 0, Avx2 = 1, Avx512Vnni = 2 };

/// The path to use now: the CPU's best, capped by the limit.
KernelPath kernel_path();

/// The CPU's best path, ignoring any limit.
KernelPath cpu_kernel_path();

/// Caps kernel_path() at `max` (KernelPath::Avx512Vnni lifts the cap).
void limit_kernel_path(KernelPath max);

/// Whether this CPU has AVX-512 BF16, which LibTorch's BF16 matrix products
/// need to be fast (without it they are several times slower than FP32).
bool cpu_has_bf16();

/// "scalar", "avx2" or "avx512-vnni".
const char* kernel_path_name(KernelPath p);

}  // namespace itera
