// default_thread_count() (declared in util/threads.h) on its own, free of
// LibTorch, so code that only asks how many cores there are (the tokenizer
// trainer, the token cache builder) links without it: the fuzz targets of
// tests/fuzz/ do.

#include <thread>

#include "util/threads.h"

namespace itera {

int default_thread_count() {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace itera
