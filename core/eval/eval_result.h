#pragma once
// The figures of one held-out evaluation, without LibTorch, so code that only
// reports them (the trainer's callers, the GUI) need not include the model.

#include <cstdint>

namespace itera {

struct EvalResult {
    double loss = 0;           ///< mean cross-entropy, nats per token
    double perplexity = 0;     ///< exp(loss)
    double bits_per_byte = 0;  ///< total nats / ln 2 / UTF-8 bytes of the evaluated text
    std::int64_t tokens = 0;   ///< tokens predicted
    std::uint64_t bytes = 0;   ///< UTF-8 bytes of the text they encode
    double seconds = 0;
};

}  // namespace itera
