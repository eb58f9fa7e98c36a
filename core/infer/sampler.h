#pragma once
// Sampling as a chain of small steps over a candidate list, with the random
// generator passed in explicitly: the same seed, settings and model give the
// same tokens on every run and machine (mt19937_64 is fully specified and the
// uniform draw is computed here, not by an implementation-defined
// distribution).

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace itera {

struct Candidate {
    std::int32_t id;
    float logit;
    float p;  ///< probability after softmax (valid once normalised)
};

/// Candidates for the next token, shrinking as the chain filters them. It
/// starts as a view of the whole vocabulary's logits; `items` is built only
/// when a sampler needs a list (top-k builds just its k), so the common
/// chain never copies or sorts V entries.
class CandidateList {
public:
    /// A view of `logits` (V floats, not copied; must outlive the list).
    void reset(const float* logits, std::int64_t vocab_size);

    /// True while the list is still every id with its logit.
    bool whole() const { return whole_; }
    /// The logits of every id, for samplers working before `items` exists;
    /// `mutable_logits` copies them first.
    const float* logits() const { return logits_; }
    float* mutable_logits();
    std::int64_t vocab_size() const { return vocab_; }

    /// The remaining candidates (built from the logits on first use).
    std::vector<Candidate>& items();
    void sort_descending();
    /// Keeps the `k` largest logits, sorted (ties to the lower id).
    void keep_top(std::size_t k);
    /// True when `items` is in descending order of logit.
    bool sorted() const { return sorted_ && !whole_; }
    /// Sets p = softmax(logit) over the remaining items.
    void normalise();

private:
    const float* logits_ = nullptr;
    std::int64_t vocab_ = 0;
    std::vector<float> copy_;
    std::vector<Candidate> items_;
    bool whole_ = true;
    bool sorted_ = false;
};

/// The random source of one generation.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : engine_(seed) {}
    /// Uniform in [0, 1), 53 random bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

private:
    std::mt19937_64 engine_;
};

class Sampler {
public:
    virtual ~Sampler() = default;
    /// Filters or reweights `c`; `history` is every token so far, the prompt's
    /// first (history[generated_from..] are the sampled ones).
    virtual void apply(CandidateList& c, const std::vector<std::int32_t>& history,
                       std::size_t generated_from) const = 0;
};

struct SamplingSettings {
    double temperature = 0.8;     ///< 0 = greedy
    std::int64_t top_k = 40;      ///< 0 = off
    double top_p = 0.95;          ///< 1 = off
    double min_p = 0.05;          ///< 0 = off; relative to the most likely token
    double repeat_penalty = 1.1;  ///< 1 = off; CTRL-style, on logits of recent tokens
    std::int64_t repeat_window = 64;
    /// OpenAI's penalties on the tokens sampled so far (not the prompt's): a
    /// token's logit loses presence_penalty once and frequency_penalty per
    /// time it was sampled. In [-2, 2]; 0 = off.
    double presence_penalty = 0;
    double frequency_penalty = 0;
    std::uint64_t seed = 0;

    /// Throws itera::Error naming the first out-of-range setting.
    void validate() const;
    static SamplingSettings greedy();
};

/// The chain for `settings`: repetition penalty, presence/frequency
/// penalties, top-k, top-p, min-p, temperature, then a draw (or argmax when
/// the temperature is 0).
class SamplerChain {
public:
    explicit SamplerChain(const SamplingSettings& settings);

    /// The next token for `logits` (V floats) given `history`, whose tokens
    /// from `generated_from` on were sampled (the rest is the prompt).
    std::int32_t sample(const float* logits, std::int64_t vocab_size,
                        const std::vector<std::int32_t>& history, Rng& rng,
                        std::size_t generated_from = 0);

private:
    SamplingSettings settings_;
    std::vector<std::unique_ptr<Sampler>> chain_;
    CandidateList candidates_;
};

/// The `n` most likely next tokens of `logits` with their probabilities
/// (softmax at temperature 1), most likely first, and the probability of
/// `chosen` (the model's own distribution, before any sampler).
struct TokenProbabilities {
    float chosen_p = 0;
    std::vector<std::pair<std::int32_t, float>> top;
};
TokenProbabilities token_probabilities(const float* logits, std::int64_t vocab_size,
                                       std::int32_t chosen, std::size_t n);

/// Ids of the `n` largest of `values` (V floats), largest first; ties to the lower id.
std::vector<std::int32_t> top_ids(const float* values, std::int64_t vocab_size, std::size_t n);

}  // namespace itera
