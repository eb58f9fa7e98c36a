#include "util/threads.h"

#include <ATen/Parallel.h>

#include <string>

#include "util/allocator.h"
#include "util/error.h"

namespace itera {

int set_thread_count(int n) {
    if (n > 4096) throw Error("threads: " + std::to_string(n) + " is not a sensible thread count");
    if (n <= 0) n = default_thread_count();
    tune_allocator();  // every compute entry point passes through here
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer cannot see OpenMP's barriers (libgomp is not built with
    // it): every kernel run by the intra-op pool would be a false report. The
    // TSan build checks our own threads (jobs, server, Gloo) with one intra-op
    // thread instead.
    n = 1;
#endif
    at::set_num_threads(n);
    return at::get_num_threads();
}

}  // namespace itera
