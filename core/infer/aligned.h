#pragma once
// Vectors whose data starts on a 64-byte cache line. The integer kernels load
// 32 and 64 bytes at a time: from a buffer that malloc happened to place 16
// bytes off a line, every other load spans two lines, and timings of one model
// disagreed by up to half (docs/compression.md, paired speed ratios).

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace itera {

template <class T>
struct CacheLineAllocator {
    using value_type = T;
    CacheLineAllocator() = default;
    template <class U>
    CacheLineAllocator(const CacheLineAllocator<U>&) {}

    T* allocate(std::size_t n) {
        // aligned_alloc wants a size that is a multiple of the alignment.
        const std::size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
        void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
        if (!p) throw std::bad_alloc();
        return static_cast<T*>(p);
    }
    void deallocate(T* p, std::size_t) { std::free(p); }

    friend bool operator==(const CacheLineAllocator&, const CacheLineAllocator&) { return true; }
    friend bool operator!=(const CacheLineAllocator&, const CacheLineAllocator&) { return false; }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace itera
