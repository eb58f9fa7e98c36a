#include "infer/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "infer/decode_kernels.h"
#include "util/error.h"

namespace itera {

void CandidateList::reset(const float* logits, std::int64_t vocab_size) {
    logits_ = logits;
    vocab_ = vocab_size;
    whole_ = true;
    sorted_ = false;
    items_.clear();
}

float* CandidateList::mutable_logits() {
    if (logits_ != copy_.data()) {
        copy_.assign(logits_, logits_ + vocab_);
        logits_ = copy_.data();
    }
    return copy_.data();
}

namespace {
bool before(const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);  // total order: reproducible
}
}  // namespace

std::vector<Candidate>& CandidateList::items() {
    if (whole_) {
        items_.resize(static_cast<std::size_t>(vocab_));
        for (std::int32_t i = 0; i < vocab_; ++i)
            items_[static_cast<std::size_t>(i)] = {i, logits_[i], 0.0f};
        whole_ = false;
        sorted_ = false;
    }
    return items_;
}

void CandidateList::sort_descending() {
    auto& v = items();
    if (!sorted_) std::sort(v.begin(), v.end(), before);
    sorted_ = true;
}

void CandidateList::keep_top(std::size_t k) {
    if (whole_) {  // one pass over the logits, no V-sized list
        items_.clear();
        for (auto id : top_ids(logits_, vocab_, k)) items_.push_back({id, logits_[id], 0.0f});
        whole_ = false;
        sorted_ = true;
        return;
    }
    sort_descending();
    if (k < items_.size()) items_.resize(k);
}

void CandidateList::normalise() {
    auto& v = items();
    float top = -INFINITY;
    for (const auto& c : v) top = std::max(top, c.logit);
    double total = 0;
    for (auto& c : v) total += c.p = std::exp(c.logit - top);
    for (auto& c : v) c.p = static_cast<float>(c.p / total);
}

namespace {

class RepetitionPenalty final : public Sampler {
public:
    RepetitionPenalty(double penalty, std::int64_t window)
        : penalty_(static_cast<float>(penalty)), window_(window) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>& history,
               std::size_t) const override {
        const auto n = static_cast<std::int64_t>(history.size());
        std::vector<std::int32_t> recent(history.begin() + std::max<std::int64_t>(0, n - window_),
                                         history.end());
        std::sort(recent.begin(), recent.end());
        recent.erase(std::unique(recent.begin(), recent.end()), recent.end());
        float* logits = c.mutable_logits();  // first in the chain: the list is still whole
        for (auto id : recent) {
            if (id < 0 || id >= c.vocab_size()) continue;
            float& logit = logits[id];
            logit = logit > 0 ? logit / penalty_ : logit * penalty_;
        }
    }

private:
    float penalty_;
    std::int64_t window_;
};

// OpenAI's presence and frequency penalties over the sampled tokens.
class PresenceFrequencyPenalty final : public Sampler {
public:
    PresenceFrequencyPenalty(double presence, double frequency)
        : presence_(static_cast<float>(presence)), frequency_(static_cast<float>(frequency)) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>& history,
               std::size_t generated_from) const override {
        std::vector<std::int32_t> sampled(
            history.begin() + static_cast<std::ptrdiff_t>(std::min(generated_from, history.size())),
            history.end());
        std::sort(sampled.begin(), sampled.end());
        float* logits = c.mutable_logits();  // before any filter: the list is still whole
        for (std::size_t i = 0; i < sampled.size();) {
            std::size_t j = i;
            while (j < sampled.size() && sampled[j] == sampled[i]) ++j;
            const auto id = sampled[i];
            if (id >= 0 && id < c.vocab_size())
                logits[id] -= presence_ + frequency_ * static_cast<float>(j - i);
            i = j;
        }
    }

private:
    float presence_, frequency_;
};

class TopK final : public Sampler {
public:
    explicit TopK(std::int64_t k) : k_(static_cast<std::size_t>(k)) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>&, std::size_t) const override {
        c.keep_top(k_);
    }

private:
    std::size_t k_;
};

class Temperature final : public Sampler {
public:
    explicit Temperature(double t) : inv_(static_cast<float>(1.0 / t)) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>&, std::size_t) const override {
        for (auto& cand : c.items()) cand.logit *= inv_;
    }

private:
    float inv_;
};

class TopP final : public Sampler {
public:
    explicit TopP(double p) : p_(p) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>&, std::size_t) const override {
        c.normalise();
        auto& items = c.items();
        if (c.sorted()) {  // after top-k: walk the sorted prefix
            double cum = 0;
            std::size_t keep = 0;
            while (keep < items.size() && cum < p_) cum += items[keep++].p;
            items.resize(std::max<std::size_t>(1, keep));
            return;
        }
        // The smallest set of most likely tokens whose mass reaches p, found
        // by a quickselect that weighs each side by its mass: O(V), no sort
        // (the set, not its order, is what the draw needs).
        auto first = items.begin(), lo = first, hi = items.end();
        double above = 0;  // mass of [first, lo), all ranked before [lo, hi)
        while (hi - lo > 1) {
            auto mid = lo + (hi - lo - 1) / 2;  // [lo, mid] is never all of [lo, hi)
            std::nth_element(lo, mid, hi, before);
            double left = 0;
            for (auto it = lo; it <= mid; ++it) left += it->p;
            if (above + left >= p_) {
                hi = mid + 1;
            } else {
                above += left;
                lo = mid + 1;
            }
        }
        items.resize(static_cast<std::size_t>(std::max<std::ptrdiff_t>(1, hi - first)));
    }

private:
    double p_;
};

class MinP final : public Sampler {
public:
    explicit MinP(double p) : p_(static_cast<float>(p)) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>&, std::size_t) const override {
        // p_i >= min_p · p_max  ⇔  logit_i >= logit_max + log(min_p); order kept.
        auto& items = c.items();
        float top = -INFINITY;
        for (const auto& x : items) top = std::max(top, x.logit);
        const float floor = top + std::log(p_);
        items.erase(std::remove_if(items.begin(), items.end(),
                                   [&](const Candidate& x) { return x.logit < floor; }),
                    items.end());
    }

private:
    float p_;
};

}  // namespace

void SamplingSettings::validate() const {
    auto fail = [](const std::string& what) { throw Error("sampling: " + what); };
    if (!(temperature >= 0 && temperature <= 100)) fail("temperature must be in [0, 100]");
    if (top_k < 0) fail("top_k must be >= 0 (0 = off)");
    if (!(top_p > 0 && top_p <= 1)) fail("top_p must be in (0, 1] (1 = off)");
    if (!(min_p >= 0 && min_p < 1)) fail("min_p must be in [0, 1) (0 = off)");
    if (!(repeat_penalty >= 1 && repeat_penalty <= 10))
        fail("repeat_penalty must be in [1, 10] (1 = off)");
    if (repeat_window < 0) fail("repeat_window must be >= 0");
    if (!(presence_penalty >= -2 && presence_penalty <= 2))
        fail("presence_penalty must be in [-2, 2] (0 = off)");
    if (!(frequency_penalty >= -2 && frequency_penalty <= 2))
        fail("frequency_penalty must be in [-2, 2] (0 = off)");
}

SamplingSettings SamplingSettings::greedy() {
    SamplingSettings s;
    s.temperature = 0;
    s.top_k = 0;
    s.top_p = 1;
    s.min_p = 0;
    s.repeat_penalty = 1;
    return s;
}

SamplerChain::SamplerChain(const SamplingSettings& s) : settings_(s) {
    s.validate();
    if (s.repeat_penalty > 1 && s.repeat_window > 0)
        chain_.push_back(std::make_unique<RepetitionPenalty>(s.repeat_penalty, s.repeat_window));
    if (s.presence_penalty != 0 || s.frequency_penalty != 0)
        chain_.push_back(
            std::make_unique<PresenceFrequencyPenalty>(s.presence_penalty, s.frequency_penalty));
    if (s.temperature == 0) return;  // greedy: argmax of the (penalised) logits
    // Truncation sees the model's own distribution; temperature then reshapes
    // what is left (llama.cpp's order), so top-p does not drift with temperature.
    if (s.top_k > 0) chain_.push_back(std::make_unique<TopK>(s.top_k));
    if (s.top_p < 1) chain_.push_back(std::make_unique<TopP>(s.top_p));
    if (s.min_p > 0) chain_.push_back(std::make_unique<MinP>(s.min_p));
    chain_.push_back(std::make_unique<Temperature>(s.temperature));
}

std::int32_t SamplerChain::sample(const float* logits, std::int64_t vocab_size,
                                  const std::vector<std::int32_t>& history, Rng& rng,
                                  std::size_t generated_from) {
    if (settings_.temperature == 0 && chain_.empty()) {
        return static_cast<std::int32_t>(decode::argmax(logits, vocab_size));  // ties: the lower id
    }
    candidates_.reset(logits, vocab_size);
    for (const auto& s : chain_) s->apply(candidates_, history, generated_from);
    if (settings_.temperature == 0)  // greedy after the penalty
        return static_cast<std::int32_t>(decode::argmax(candidates_.logits(), vocab_size));
    candidates_.normalise();
    double r = rng.uniform(), cum = 0;
    const auto& items = candidates_.items();
    for (const auto& c : items) {
        cum += c.p;
        if (r < cum) return c.id;
    }
    return items.back().id;  // rounding left r just above the total
}

TokenProbabilities token_probabilities(const float* logits, std::int64_t vocab_size,
                                       std::int32_t chosen, std::size_t n) {
    const float log_total = decode::log_sum_exp(logits, vocab_size);
    auto prob = [&](std::int32_t id) { return std::exp(logits[id] - log_total); };
    TokenProbabilities out;
    out.chosen_p = prob(chosen);
    for (auto id : top_ids(logits, vocab_size, n)) out.top.emplace_back(id, prob(id));
    return out;
}

std::vector<std::int32_t> top_ids(const float* values, std::int64_t vocab_size, std::size_t n) {
    // One pass keeping the n best (n is small): insertion into a sorted array.
    n = std::min(n, static_cast<std::size_t>(vocab_size));
    std::vector<std::int32_t> best;
    best.reserve(n + 1);
    for (std::int32_t i = 0; n > 0 && i < vocab_size; ++i) {
        if (best.size() == n && !(values[i] > values[best.back()])) continue;  // ties: lower id
        auto pos =
            std::upper_bound(best.begin(), best.end(), i,
                             [&](std::int32_t a, std::int32_t b) { return values[a] > values[b]; });
        best.insert(pos, i);
        if (best.size() > n) best.pop_back();
    }
    return best;
}

}  // namespace itera
