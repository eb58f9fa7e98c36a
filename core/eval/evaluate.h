#pragma once
// Held-out evaluation: mean cross-entropy, perplexity and bits per byte of a
// token stream, computed over consecutive windows so that every evaluated
// token is predicted exactly once (the first from an EOS, as after a document
// boundary). The MoE auxiliary loss is never part of these figures.

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "data/token_cache.h"
#include "eval/eval_result.h"
#include "model/itera_model.h"
#include "tokenizer/tokenizer.h"

namespace itera {

struct EvalOptions {
    std::int64_t max_tokens = 1 << 18;  ///< cap; the whole stream when it is shorter
    std::int64_t batch_size = 16;
    std::int64_t seq_len = 128;
    /// Called after each batch with (tokens evaluated, tokens to evaluate).
    std::function<void(std::int64_t done, std::int64_t total)> progress;
    const std::atomic<bool>* cancel = nullptr;  ///< set to stop; throws itera::Error("cancelled")
    /// Split across processes: this one evaluates batches i with i % parts ==
    /// part, and `sum_across` sums a vector over all of them (every process
    /// then adds the batches up in order, as one process would).
    int part = 0, parts = 1;
    std::function<void(std::vector<double>&)> sum_across;
};

/// The ids an evaluation predicts: [EOS] + the first tokens of `stream` (up
/// to max_tokens, ending at a document end when the stream is cut), and the
/// UTF-8 bytes of the text they encode.
struct EvalTokens {
    std::vector<std::int64_t> ids;  ///< ids[0] is EOS; ids.size() - 1 targets
    std::uint64_t bytes = 0;
    std::int64_t targets() const { return static_cast<std::int64_t>(ids.size()) - 1; }
};
EvalTokens eval_tokens(const TokenStream& stream, const Tokenizer& tokenizer,
                       std::uint64_t stream_bytes, std::int64_t max_tokens);

/// Evaluates `model` on the first tokens of `stream`. When the whole stream
/// fits, `stream_bytes` (the split's UTF-8 size from the cache manifest) is the
/// byte count; otherwise the evaluation stops at a document end and the bytes
/// are those of the decoded documents. Runs without autograd, in eval mode;
/// restores the model's training mode.
EvalResult evaluate(IteraModel& model, const TokenStream& stream, const Tokenizer& tokenizer,
                    std::uint64_t stream_bytes, const EvalOptions& options);

}  // namespace itera
