#pragma once
// Scoring a text: the log-probability the model gives each actual next token
// and its most likely alternatives at every position, from one full forward
// (the playground's per-token view; external checks compare against it).

#include <cstdint>
#include <string>
#include <vector>

#include "infer/inference_model.h"
#include "infer/text_stream.h"

namespace itera {

struct ScoreResult {
    std::vector<std::int32_t> tokens;  ///< the tokenizer's ids of the text (BOS first if asked)
    /// logprobs[i-1] = log p(tokens[i] | tokens[<i]) for i >= 1.
    std::vector<float> logprobs;
    /// Each token's text in place (with its leading space; a character split
    /// over byte tokens appears whole on its last token).
    std::vector<std::string> pieces;
    /// top[i]: the most likely tokens after tokens[0..i].
    std::vector<std::vector<Alternative>> top;

    double total_logprob() const;
};

ScoreResult score_text(const InferenceModel& model, const std::string& text, bool bos,
                       std::size_t top_n = 5);

/// The same for tokens given as ids (each must be in the vocabulary): how a
/// server scores a prompt (OpenAI's echo with logprobs).
ScoreResult score_ids(const InferenceModel& model, const std::vector<std::int32_t>& tokens,
                      std::size_t top_n = 5);

/// Teacher forcing: both models read the same tokens `ids`; for every position
/// t in [from, ids.size() - 1) the KL divergence KL(a ‖ b) of their next-token
/// distributions after ids[0..t] (those predicting ids[t + 1]), in nats.
/// Shows how two models differ on one text even where sampling would part
/// their outputs. Throws if the models' vocabularies or tokenizers differ.
std::vector<double> teacher_forced_kl(const InferenceModel& a, const InferenceModel& b,
                                      const std::vector<std::int32_t>& ids, std::size_t from);

}  // namespace itera
