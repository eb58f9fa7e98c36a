#pragma once
// Scoring a text: the log-probability the model gives each actual next token
// and its most likely alternatives at every position, from one full forward
// (the playground's per-token view; external checks compare against it).

#include <cstdint>
#include <string>
#include <vector>

#include "infer/inference_model.h"

namespace itera {

struct ScoreResult {
    std::vector<std::int32_t> tokens;  ///< the tokenizer's ids of the text (BOS first if asked)
    /// logprobs[i-1] = log p(tokens[i] | tokens[<i]) for i >= 1.
    std::vector<float> logprobs;
    /// top[i]: the most likely ids after tokens[0..i] with their log-probabilities.
    std::vector<std::vector<std::pair<std::int32_t, float>>> top;

    double total_logprob() const;
};

ScoreResult score_text(const InferenceModel& model, const std::string& text, bool bos,
                       std::size_t top_n = 5);

}  // namespace itera
