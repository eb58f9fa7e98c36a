#pragma once
// Hot loops are compiled for several x86-64 levels and picked at load time
// (GCC function multi-versioning), so one binary runs AVX-512 where the CPU
// has it, AVX2+FMA on e.g. AMD Zen 3, and plain SSE2 elsewhere. Not under the
// sanitizers: their instrumented resolvers would run before their runtime
// starts (a ThreadSanitizer build crashed at load in argmax's resolver).

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(ITERA_NO_CLONES)
#define ITERA_KERNEL_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ITERA_KERNEL_CLONES
#endif
