#pragma once
// What machine this is, for reports: figures mean little without the CPU,
// its core count and the BLAS LibTorch's matrix products ran on.

#include <string>

namespace itera {

/// The CPU's model name from /proc/cpuinfo ("unknown CPU" when unreadable).
std::string cpu_model();

/// Logical cores available to this process.
int logical_cores();

/// The library behind libblas.so.3 (e.g. "OpenBLAS (openmp)", "reference BLAS"),
/// or "unknown" when it cannot be resolved.
std::string blas_library();

}  // namespace itera
