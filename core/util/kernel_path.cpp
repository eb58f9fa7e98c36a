#include "util/kernel_path.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace itera {
namespace {

KernelPath detect() {
#if defined(__x86_64__) && defined(__GNUC__)
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return KernelPath::Scalar;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vnni"))
        return KernelPath::Avx512Vnni;
    return KernelPath::Avx2;
#else
    return KernelPath::Scalar;
#endif
}

int initial_limit() {
    const char* env = std::getenv("ITERA_KERNELS");
    if (env && std::strcmp(env, "scalar") == 0) return static_cast<int>(KernelPath::Scalar);
    if (env && std::strcmp(env, "avx2") == 0) return static_cast<int>(KernelPath::Avx2);
    return static_cast<int>(KernelPath::Avx512Vnni);
}

std::atomic<int>& limit() {
    static std::atomic<int> value{initial_limit()};
    return value;
}

}  // namespace

KernelPath cpu_kernel_path() {
    static const KernelPath best = detect();
    return best;
}

KernelPath kernel_path() {
    const int best = static_cast<int>(cpu_kernel_path());
    const int cap = limit().load(std::memory_order_relaxed);
    return static_cast<KernelPath>(best < cap ? best : cap);
}

void limit_kernel_path(KernelPath max) {
    limit().store(static_cast<int>(max), std::memory_order_relaxed);
}

bool cpu_has_bf16() {
#if defined(__x86_64__) && defined(__GNUC__)
    static const bool yes = __builtin_cpu_supports("avx512bf16");
    return yes;
#else
    return false;
#endif
}

const char* kernel_path_name(KernelPath p) {
    switch (p) {
        case KernelPath::Scalar:
            return "scalar";
        case KernelPath::Avx2:
            return "avx2";
        case KernelPath::Avx512Vnni:
            return "avx512-vnni";
    }
    return "?";
}

}  // namespace itera
