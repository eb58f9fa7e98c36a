#include "infer/score.h"

#include "data/utf8.h"
#include "infer/sampler.h"
#include "util/error.h"

#include <cmath>

namespace itera {

double ScoreResult::total_logprob() const {
    double total = 0;
    for (float lp : logprobs) total += lp;
    return total;
}

ScoreResult score_text(const InferenceModel& model, const std::string& text, bool bos,
                       std::size_t top_n) {
    const Tokenizer& tok = model.require_tokenizer();
    if (auto bad = first_invalid_utf8(text))
        throw Error("score: the text is not valid UTF-8 (bad byte at offset " +
                    std::to_string(*bad) + ")");
    std::vector<std::int32_t> tokens;
    if (bos) tokens.push_back(tok.bos_id());
    const auto ids = tok.encode(text);
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    return score_ids(model, tokens, top_n);
}

ScoreResult score_ids(const InferenceModel& model, const std::vector<std::int32_t>& tokens,
                      std::size_t top_n) {
    const Tokenizer& tok = model.require_tokenizer();
    const std::int64_t V = model.config().vocab_size;
    for (auto id : tokens)
        if (id < 0 || id >= V)
            throw Error("score: token id " + std::to_string(id) +
                        " is outside the vocabulary (0.." + std::to_string(V - 1) + ")");
    ScoreResult r;
    r.tokens = tokens;
    if (r.tokens.empty()) return r;
    const auto lp = model.log_probs(r.tokens);  // (T, V)
    TextStream stream(tok, {});
    std::vector<std::int32_t> context;
    for (std::size_t i = 0; i < r.tokens.size(); ++i) {
        const float* row = lp.data() + static_cast<std::int64_t>(i) * V;
        if (i + 1 < r.tokens.size()) r.logprobs.push_back(row[r.tokens[i + 1]]);
        r.pieces.push_back(stream.push(r.tokens[i]));
        context.push_back(r.tokens[i]);
        std::vector<Alternative> top;
        for (auto id : top_ids(row, V, top_n))
            top.push_back({id, std::exp(row[id]), row[id], token_piece(tok, context, id)});
        r.top.push_back(std::move(top));
    }
    r.pieces.back() += stream.flush();
    return r;
}

std::vector<double> teacher_forced_kl(const InferenceModel& a, const InferenceModel& b,
                                      const std::vector<std::int32_t>& ids, std::size_t from) {
    const std::int64_t V = a.config().vocab_size;
    if (b.config().vocab_size != V)
        throw Error("teacher forcing needs one vocabulary: " + a.path().string() + " has " +
                    std::to_string(V) + " tokens, " + b.path().string() + " has " +
                    std::to_string(b.config().vocab_size));
    if (a.tokenizer() && b.tokenizer() &&
        a.tokenizer()->fingerprint() != b.tokenizer()->fingerprint())
        throw Error("teacher forcing needs one tokenizer: " + a.path().string() + " and " +
                    b.path().string() + " use different ones");
    std::vector<double> kl;
    if (ids.size() < 2 || from + 1 >= ids.size()) return kl;
    const auto la = a.log_probs(ids);  // (T, V), rows are log-probabilities
    const auto lb = b.log_probs(ids);
    for (std::size_t t = from; t + 1 < ids.size(); ++t) {
        const float* pa = la.data() + static_cast<std::int64_t>(t) * V;
        const float* pb = lb.data() + static_cast<std::int64_t>(t) * V;
        double sum = 0;
        for (std::int64_t v = 0; v < V; ++v)
            sum += std::exp(double(pa[v])) * (double(pa[v]) - pb[v]);
        kl.push_back(std::max(0.0, sum));  // rounding can leave -1e-9 for equal models
    }
    return kl;
}

}  // namespace itera
