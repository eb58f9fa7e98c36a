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
    at::set_num_threads(n);
    return at::get_num_threads();
}

}  // namespace itera
