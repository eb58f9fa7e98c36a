#include "infer/generation_sequence.h"

#include <cmath>

#include "data/utf8.h"
#include "util/error.h"

namespace itera {
namespace {

using Clock = std::chrono::steady_clock;

GenerateResult with_prompt(const Tokenizer& tok, const Prompt& prompt) {
    GenerateResult r;
    if (prompt.is_ids) {
        for (auto id : prompt.ids)
            if (id < 0 || id >= tok.vocab_size())
                throw Error("generate: token id " + std::to_string(id) +
                            " of the prompt is outside the vocabulary (0.." +
                            std::to_string(tok.vocab_size() - 1) + ")");
        r.prompt_ids = prompt.ids;
        return r;
    }
    if (auto bad = first_invalid_utf8(prompt.text))
        throw Error("generate: the prompt is not valid UTF-8 (bad byte at offset " +
                    std::to_string(*bad) + ")");
    r.prompt_ids = tok.encode(prompt.text);
    return r;
}

std::vector<std::int32_t> fed_tokens(const Tokenizer& tok, const std::vector<std::int32_t>& prompt,
                                     bool document_start) {
    std::vector<std::int32_t> fed;
    if (document_start) fed.push_back(tok.eos_id());
    fed.insert(fed.end(), prompt.begin(), prompt.end());
    if (fed.empty()) fed.push_back(tok.eos_id());  // nothing to condition on: a document start
    return fed;
}

}  // namespace

GenerationSequence::GenerationSequence(const Tokenizer& tokenizer, const Prompt& prompt,
                                       const GenerateSettings& settings, std::uint64_t seed,
                                       std::size_t index)
    : tok_(tokenizer),
      settings_(settings),
      index_(index),
      result_(with_prompt(tokenizer, prompt)),
      fed_(fed_tokens(tokenizer, result_.prompt_ids, settings.document_start)),
      sampler_(settings.sampling),
      rng_(seed),
      text_(tokenizer, fed_),
      stop_(settings.stop),
      history_(fed_) {}

TokenEvent GenerationSequence::advance(const float* row, std::int64_t V) {
    if (step_ == 0) started_ = Clock::now();
    const std::int32_t id = sampler_.sample(row, V, history_, rng_, fed_.size());
    auto probs = token_probabilities(row, V, id, settings_.top_alternatives);
    TokenEvent ev;
    ev.sequence = index_;
    ev.index = step_;
    ev.id = id;
    ev.p = probs.chosen_p;
    for (const auto& [alt, p] : probs.top)
        ev.top.push_back({alt, p, std::log(p), token_piece(tok_, history_, alt)});
    history_.push_back(id);
    const bool eos = settings_.stop_at_eos && id == tok_.eos_id();
    if (!eos) {
        result_.ids.push_back(id);
        result_.probs.push_back(ev.p);
        if (settings_.top_alternatives) result_.top.push_back(ev.top);
        ev.piece = stop_.add(text_.push(id));
        if (stop_.matched()) result_.stop_reason = "stop";
    } else {
        result_.stop_reason = "eos";
    }
    ++step_;
    if (step_ == settings_.max_tokens && result_.stop_reason.empty())
        result_.stop_reason = "max_tokens";
    if (!result_.stop_reason.empty()) {
        if (result_.stop_reason != "stop") ev.piece += stop_.add(text_.flush()) + stop_.flush();
        finish();
    }
    result_.text += ev.piece;
    return ev;
}

void GenerationSequence::cancel() {
    if (done_) return;
    result_.stop_reason = "cancelled";
    finish();
}

void GenerationSequence::finish() {
    done_ = true;
    if (step_ > 0)
        result_.decode_seconds = std::chrono::duration<double>(Clock::now() - started_).count();
}

}  // namespace itera
