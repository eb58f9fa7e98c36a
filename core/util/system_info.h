#pragma once
// What machine this is, for reports: figures mean little without the CPU,
// its core count and the BLAS LibTorch's matrix products ran on.

#include <cstdint>
#include <string>

namespace itera {

/// The CPU's model name from /proc/cpuinfo ("unknown CPU" when unreadable).
std::string cpu_model();

/// Logical cores available to this process.
int logical_cores();

/// Memory a new allocation can use without swapping (MemAvailable of
/// /proc/meminfo), or the physical memory when that is unreadable.
std::uint64_t available_memory_bytes();

/// Throws itera::Error naming `what`, the bytes it needs and the memory
/// available, when `bytes` would not fit: a file must not make the process
/// swap or be killed by asking for more than the machine has.
void require_memory(std::uint64_t bytes, const std::string& what);

/// The library behind libblas.so.3 (e.g. "OpenBLAS (openmp)", "reference BLAS"),
/// or "unknown" when it cannot be resolved.
std::string blas_library();

}  // namespace itera
