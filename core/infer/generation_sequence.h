#pragma once
// One sequence being generated: its prompt tokens, sampler chain and random
// source, the text released so far and its stop strings. Shared by
// generate_batch (a fixed batch) and the server's engine (continuous
// batching), so a request gives the same text either way.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "infer/generate.h"
#include "infer/stop_matcher.h"

namespace itera {

class GenerationSequence {
public:
    /// Tokenises `prompt` (invalid UTF-8 is an error; token ids must be in
    /// the vocabulary) and prepares sampling with Rng(seed). `index` is the
    /// sequence's number in its batch.
    GenerationSequence(const Tokenizer& tokenizer, const Prompt& prompt,
                       const GenerateSettings& settings, std::uint64_t seed, std::size_t index);

    /// The tokens the prefill absorbs (the EOS prefix, then the prompt).
    const std::vector<std::int32_t>& fed() const { return fed_; }
    void set_prefill_seconds(double s) { result_.prefill_seconds = s; }

    /// Samples the next token from `logits` (V floats) and releases its text;
    /// the event to stream. done() may be true afterwards.
    TokenEvent advance(const float* logits, std::int64_t vocab_size);
    /// Ends the sequence as "cancelled" (a callback said stop, a client left).
    void cancel();

    bool done() const { return done_; }
    /// The token to feed next (the last sampled one).
    std::int32_t last() const { return history_.back(); }
    std::int64_t generated() const { return step_; }
    GenerateResult& result() { return result_; }

private:
    void finish();

    const Tokenizer& tok_;
    GenerateSettings settings_;
    std::size_t index_;
    GenerateResult result_;  ///< before fed_: it holds the prompt's ids fed_ is made of
    std::vector<std::int32_t> fed_;
    SamplerChain sampler_;
    Rng rng_;
    TextStream text_;
    StopMatcher stop_;
    std::vector<std::int32_t> history_;  ///< prompt + generated, for the repetition penalty
    std::int64_t step_ = 0;
    bool done_ = false;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace itera
