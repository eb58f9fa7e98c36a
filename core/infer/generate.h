#pragma once
// Text generation: tokenise the prompt, absorb it with the batched forward,
// then decode one token at a time, sampling from each step's logits and
// streaming each token's text through a callback that can cancel. Several
// prompts can decode together in one batch (the server, the playground).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "infer/inference_model.h"
#include "infer/sampler.h"
#include "infer/text_stream.h"

namespace itera {

struct GenerateSettings {
    SamplingSettings sampling;
    std::int64_t max_tokens = 200;
    std::vector<std::string> stop;     ///< stop strings; the text ends before the first match
    bool stop_at_eos = true;           ///< end at the end-of-document token
    std::size_t top_alternatives = 0;  ///< per token, report the n most likely tokens
    /// Prefix the prompt with EOS, the document boundary the model was trained
    /// with, so a prompt reads as the start of a document.
    bool document_start = true;
    int threads = 1;  ///< decoder threads (the prefill uses LibTorch's setting)

    /// Throws itera::Error naming the first invalid setting.
    void validate() const;
};

/// A prompt: text (tokenised with the model's tokenizer) or token ids as given.
struct Prompt {
    std::string text;
    std::vector<std::int32_t> ids;
    bool is_ids = false;

    Prompt(std::string t = {}) : text(std::move(t)) {}  // NOLINT: a string is a prompt
    Prompt(const char* t) : text(t) {}                  // NOLINT
    static Prompt of_ids(std::vector<std::int32_t> ids) {
        Prompt p;
        p.ids = std::move(ids);
        p.is_ids = true;
        return p;
    }
};

struct TokenEvent {
    std::size_t sequence = 0;  ///< index of the prompt in a batch
    std::int64_t index = 0;    ///< 0 for the first generated token
    std::int32_t id = 0;
    std::string piece;  ///< text released by this token (may be empty or span earlier tokens)
    float p = 0;        ///< the model's probability of the token (temperature 1, no sampler)
    std::vector<Alternative> top;  ///< the most likely tokens at this step, when asked for
};

/// Return false to stop generating (the result's stop_reason is "cancelled").
using TokenCallback = std::function<bool(const TokenEvent&)>;

struct GenerateResult {
    std::string text;                           ///< the generated text (no prompt, no stop string)
    std::vector<std::int32_t> prompt_ids;       ///< the prompt's tokens (without the EOS prefix)
    std::vector<std::int32_t> ids;              ///< the generated tokens
    std::vector<float> probs;                   ///< the model's probability of each
    std::vector<std::vector<Alternative>> top;  ///< per generated token, when asked for
    std::string stop_reason;                    ///< "eos", "stop", "max_tokens" or "cancelled"
    double prefill_seconds = 0;
    double decode_seconds = 0;  ///< from the first generated token to the last

    std::size_t prefill_tokens() const;  ///< tokens absorbed (prompt + EOS prefix)
    double prefill_tokens_per_s() const;
    double decode_tokens_per_s() const;
};

/// Generates a continuation of `prompt`. Sequence b of a batch draws from
/// Rng(seed + b), so a prompt gives the same text alone or in a batch.
GenerateResult generate(const InferenceModel& model, const std::string& prompt,
                        const GenerateSettings& settings, const TokenCallback& on_token = {});

std::vector<GenerateResult> generate_batch(const InferenceModel& model,
                                           const std::vector<std::string>& prompts,
                                           const GenerateSettings& settings,
                                           const TokenCallback& on_token = {});

}  // namespace itera
