#include "infer/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "infer/decode_kernels.h"
#include "util/error.h"

namespace itera {

void CandidateList::assign(const float* logits, std::int64_t vocab_size) {
    items.resize(static_cast<std::size_t>(vocab_size));
    for (std::int32_t i = 0; i < vocab_size; ++i)
        items[static_cast<std::size_t>(i)] = {i, logits[i], 0.0f};
    sorted = false;
}

namespace {
bool before(const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);  // total order: reproducible
}
}  // namespace

void CandidateList::sort_descending() {
    if (!sorted) std::sort(items.begin(), items.end(), before);
    sorted = true;
}

void CandidateList::keep_top(std::size_t k) {
    if (k >= items.size()) {
        sort_descending();
        return;
    }
    std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(k), items.end(),
                      before);
    items.resize(k);
    sorted = true;
}

void CandidateList::normalise() {
    float top = -INFINITY;
    for (const auto& c : items) top = std::max(top, c.logit);
    double total = 0;
    for (auto& c : items) total += c.p = std::exp(c.logit - top);
    for (auto& c : items) c.p = static_cast<float>(c.p / total);
}

namespace {

class RepetitionPenalty final : public Sampler {
public:
    RepetitionPenalty(double penalty, std::int64_t window)
        : penalty_(static_cast<float>(penalty)), window_(window) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>& history) const override {
        const auto n = static_cast<std::int64_t>(history.size());
        std::vector<std::int32_t> recent(history.begin() + std::max<std::int64_t>(0, n - window_),
                                         history.end());
        std::sort(recent.begin(), recent.end());
        recent.erase(std::unique(recent.begin(), recent.end()), recent.end());
        for (auto id : recent) {  // first in the chain: items still hold every id, index == id
            if (id < 0 || static_cast<std::size_t>(id) >= c.items.size()) continue;
            float& logit = c.items[static_cast<std::size_t>(id)].logit;
            logit = logit > 0 ? logit / penalty_ : logit * penalty_;
        }
        c.sorted = false;
    }

private:
    float penalty_;
    std::int64_t window_;
};

class TopK final : public Sampler {
public:
    explicit TopK(std::int64_t k) : k_(static_cast<std::size_t>(k)) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>&) const override {
        c.keep_top(k_);
    }

private:
    std::size_t k_;
};

class Temperature final : public Sampler {
public:
    explicit Temperature(double t) : inv_(static_cast<float>(1.0 / t)) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>&) const override {
        for (auto& cand : c.items) cand.logit *= inv_;
    }

private:
    float inv_;
};

class TopP final : public Sampler {
public:
    explicit TopP(double p) : p_(p) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>&) const override {
        c.sort_descending();
        c.normalise();
        double cum = 0;
        std::size_t keep = 0;
        while (keep < c.items.size()) {  // the smallest prefix whose mass reaches p
            cum += c.items[keep++].p;
            if (cum >= p_) break;
        }
        c.items.resize(std::max<std::size_t>(1, keep));
    }

private:
    double p_;
};

class MinP final : public Sampler {
public:
    explicit MinP(double p) : p_(static_cast<float>(p)) {}
    void apply(CandidateList& c, const std::vector<std::int32_t>&) const override {
        c.sort_descending();
        // p_i >= min_p · p_max  ⇔  logit_i >= logit_max + log(min_p)
        const float floor = c.items.front().logit + std::log(p_);
        std::size_t keep = 1;
        while (keep < c.items.size() && c.items[keep].logit >= floor) ++keep;
        c.items.resize(keep);
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
    if (s.temperature == 0) return;  // greedy: argmax of the (penalised) logits
    // Truncation sees the model's own distribution; temperature then reshapes
    // what is left (llama.cpp's order), so top-p does not drift with temperature.
    if (s.top_k > 0) chain_.push_back(std::make_unique<TopK>(s.top_k));
    if (s.top_p < 1) chain_.push_back(std::make_unique<TopP>(s.top_p));
    if (s.min_p > 0) chain_.push_back(std::make_unique<MinP>(s.min_p));
    chain_.push_back(std::make_unique<Temperature>(s.temperature));
}

std::int32_t SamplerChain::sample(const float* logits, std::int64_t vocab_size,
                                  const std::vector<std::int32_t>& history, Rng& rng) {
    if (settings_.temperature == 0 && chain_.empty()) {
        return static_cast<std::int32_t>(decode::argmax(logits, vocab_size));  // ties: the lower id
    }
    candidates_.assign(logits, vocab_size);
    for (const auto& s : chain_) s->apply(candidates_, history);
    if (settings_.temperature == 0) {
        candidates_.keep_top(1);
        return candidates_.items.front().id;
    }
    candidates_.normalise();
    double r = rng.uniform(), cum = 0;
    for (const auto& c : candidates_.items) {
        cum += c.p;
        if (r < cum) return c.id;
    }
    return candidates_.items.back().id;  // rounding left r just above the total
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
