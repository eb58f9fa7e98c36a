#include "util/allocator.h"

#include <malloc.h>

namespace itera {

void tune_allocator() {
#if defined(__GLIBC__)
    static const bool done = [] {
        mallopt(M_MMAP_THRESHOLD, 512 << 20);
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
        return true;
    }();
    (void)done;
#endif
}

}  // namespace itera
