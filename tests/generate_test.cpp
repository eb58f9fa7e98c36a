// Sampling, streaming text and generation: each sampler against its
// definition, reproducibility from the seed, stop strings, and streamed text
// that always reassembles into the tokenizer's own decoding.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <numeric>
#include <random>
#include <set>

#include "data/utf8.h"
#include "infer/generate.h"
#include "infer/sampler.h"
#include "infer/stop_matcher.h"
#include "infer/text_stream.h"
#include "model/checkpoint.h"
#include "temp_dir.h"
#include "util/error.h"

namespace itera {
namespace {

SamplingSettings plain(double temperature) {
    auto s = SamplingSettings::greedy();
    s.temperature = temperature;
    return s;
}

std::map<std::int32_t, int> draw(const SamplingSettings& s, const std::vector<float>& logits, int n,
                                 std::vector<std::int32_t> history = {}) {
    SamplerChain chain(s);
    Rng rng(s.seed);
    std::map<std::int32_t, int> counts;
    for (int i = 0; i < n; ++i)
        ++counts[chain.sample(logits.data(), static_cast<std::int64_t>(logits.size()), history,
                              rng)];
    return counts;
}

TEST(Sampling, GreedyIsTheArgmaxWithTiesToTheLowerId) {
    EXPECT_EQ(draw(SamplingSettings::greedy(), {0.1f, 2.0f, -1.0f, 2.0f}, 5),
              (std::map<std::int32_t, int>{{1, 5}}));
}

TEST(Sampling, TemperatureOneDrawsFromTheSoftmax) {
    const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
    const int n = 20000;
    auto counts = draw(plain(1.0), logits, n);
    for (int i = 0; i < 3; ++i) {
        const double p = std::exp(logits[i]), sigma = std::sqrt(p * (1 - p) / n);
        EXPECT_NEAR(counts[i] / double(n), p, 4 * sigma) << i;
    }
    // Temperature 0.5 squares the odds: p ∝ (0.5², 0.3², 0.2²).
    auto sharp = draw(plain(0.5), logits, n);
    EXPECT_NEAR(sharp[0] / double(n), 0.25 / 0.38, 0.02);
}

TEST(Sampling, TopKTopPAndMinPKeepWhatTheirDefinitionsSay) {
    const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f),
                                       std::log(0.05f)};
    auto k = plain(1.0);
    k.top_k = 2;
    auto c = draw(k, logits, 5000);
    EXPECT_EQ(c.size(), 2u);
    EXPECT_NEAR(c[0] / 5000.0, 0.5 / 0.8, 0.03);
    auto p = plain(1.0);
    p.top_p = 0.79;  // 0.5 + 0.3 reaches it: two tokens
    EXPECT_EQ(draw(p, logits, 3000).size(), 2u);
    p.top_p = 0.81;  // needs the third
    EXPECT_EQ(draw(p, logits, 3000).size(), 3u);
    auto m = plain(1.0);
    m.min_p = 0.31;  // keeps p >= 0.155: tokens 0 and 1
    EXPECT_EQ(draw(m, logits, 3000).size(), 2u);
    auto one = plain(1.5);
    one.top_k = 1;
    EXPECT_EQ(draw(one, logits, 100), (std::map<std::int32_t, int>{{0, 100}}));
}

TEST(Sampling, TopPKeepsTheSmallestMostLikelySetReachingP) {
    // Against the definition: sort by probability, keep the shortest prefix
    // whose mass reaches p. Random distributions over 24 ids; the draws must
    // cover exactly that set.
    std::mt19937 gen(4);
    std::normal_distribution<float> normal(0.0f, 1.5f);
    for (int trial = 0; trial < 12; ++trial) {
        std::vector<float> logits(24);
        for (auto& l : logits) l = normal(gen);
        const double p = 0.3 + 0.05 * trial;
        std::vector<int> order(24);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
        double total = 0, cum = 0;
        for (float l : logits) total += std::exp(l);
        std::set<int> want;
        for (int id : order) {
            if (cum >= p) break;
            want.insert(id);
            cum += std::exp(logits[id]) / total;
        }
        auto s = plain(1.0);
        s.top_p = p;
        s.seed = static_cast<std::uint64_t>(trial);
        std::set<int> got;
        for (const auto& [id, n] : draw(s, logits, 20000)) got.insert(id);
        EXPECT_EQ(got, want) << "trial " << trial << ", p " << p;
    }
}

TEST(Sampling, RepetitionPenaltyDemotesRecentTokens) {
    const std::vector<float> logits = {1.0f, 1.05f, -0.5f};
    auto s = SamplingSettings::greedy();
    s.repeat_penalty = 1.2;  // 1.05 / 1.2 < 1.0
    s.repeat_window = 4;
    EXPECT_EQ(draw(s, logits, 1, {1}).begin()->first, 0);
    EXPECT_EQ(draw(s, logits, 1, {1, 2, 2, 2, 2}).begin()->first, 1);  // outside the window
}

TEST(Sampling, SameSeedSameDrawsAndBadSettingsAreRejected) {
    std::vector<float> logits(50);
    for (int i = 0; i < 50; ++i) logits[i] = std::sin(i * 1.7f);
    auto run = [&](std::uint64_t seed) {
        auto s = plain(1.0);
        s.seed = seed;
        SamplerChain chain(s);
        Rng rng(seed);
        std::vector<std::int32_t> out;
        for (int i = 0; i < 64; ++i) out.push_back(chain.sample(logits.data(), 50, out, rng));
        return out;
    };
    EXPECT_EQ(run(5), run(5));
    EXPECT_NE(run(5), run(6));
    auto bad = SamplingSettings{};
    bad.temperature = -1;
    EXPECT_THROW(SamplerChain{bad}, Error);
    bad = SamplingSettings{};
    bad.top_p = std::nan("");
    EXPECT_THROW(SamplerChain{bad}, Error);
    bad = SamplingSettings{};
    bad.repeat_penalty = 0.5;
    EXPECT_THROW(SamplerChain{bad}, Error);
}

TEST(TextStream, PiecesReassembleIntoTheDecodedTextAndAreValidUtf8) {
    auto tok = make_byte_tokenizer();
    const std::string text = "Naïve café — ✓ 😀 done";
    auto ids = tok->encode(text);
    TextStream stream(*tok, {});
    std::string joined;
    for (auto id : ids) {
        auto piece = stream.push(id);
        EXPECT_FALSE(first_invalid_utf8(piece)) << piece;
        joined += piece;
    }
    joined += stream.flush();
    EXPECT_EQ(joined, text);
    // With a context, the pieces are what the context's decoding is missing.
    auto ctx = tok->encode("Hello, ");
    TextStream after(*tok, ctx);
    std::string tail;
    for (auto id : tok->encode("wörld")) tail += after.push(id);
    EXPECT_EQ(tail, "wörld");
    // A stray continuation byte comes out as U+FFFD, never as invalid UTF-8.
    TextStream stray(*tok, {});
    std::string s = stray.push(0x80);
    s += stray.flush();
    EXPECT_EQ(s, "\xEF\xBF\xBD");
}

TEST(TextStream, WordTokenizerKeepsItsSpaces) {
    auto tok = train_word_tokenizer({"the cat sat on the mat", "a dog sat"}, 20);
    auto ids = tok->encode("the dog sat on the cat");
    TextStream stream(*tok, {});
    std::string joined;
    for (auto id : ids) joined += stream.push(id);
    EXPECT_EQ(joined + stream.flush(), tok->decode(ids));
}

TEST(StopMatcher, HoldsBackPossibleStartsAndCutsAtTheFirstMatch) {
    StopMatcher m({"\n\n", "THE END"});
    EXPECT_EQ(m.add("Once upon"), "Once upon");
    EXPECT_EQ(m.add(" a time\n"), " a time");  // "\n" may start "\n\n"
    EXPECT_EQ(m.add("there"), "\nthere");
    EXPECT_EQ(m.add(" THE"), " ");
    EXPECT_EQ(m.add(" END!"), "");
    EXPECT_TRUE(m.matched());
    StopMatcher tail({"xyz"});
    EXPECT_EQ(tail.add("abcxy"), "abc");
    EXPECT_EQ(tail.flush(), "xy");
}

class Generation : public ::testing::Test {
protected:
    void SetUp() override {
        auto c = ModelConfig::preset("micro", 259);
        IteraModel m(c);
        m->initialize(21);
        save_checkpoint(m, make_byte_tokenizer()->serialize(), dir_.path() / "m.safetensors");
        model_ = InferenceModel::load(dir_.path() / "m.safetensors");
    }
    testing::TempDir dir_;
    std::shared_ptr<const InferenceModel> model_;
};

TEST_F(Generation, SameSeedSameTextAndBatchesEqualSingles) {
    GenerateSettings s;
    s.max_tokens = 40;
    s.stop_at_eos = false;
    s.sampling.seed = 3;
    auto a = generate(*model_, "Call me", s);
    auto b = generate(*model_, "Call me", s);
    EXPECT_EQ(a.ids, b.ids);
    EXPECT_EQ(a.text, b.text);
    EXPECT_EQ(a.ids.size(), 40u);
    EXPECT_EQ(a.stop_reason, "max_tokens");
    EXPECT_FALSE(first_invalid_utf8(a.text));
    s.sampling.seed = 4;
    EXPECT_NE(generate(*model_, "Call me", s).ids, a.ids);
    // In a batch, sequence b draws from seed + b.
    s.sampling.seed = 2;
    auto batch = generate_batch(*model_, {"Whale", "Call me"}, s);
    EXPECT_EQ(batch[1].ids, a.ids);
    EXPECT_EQ(batch[1].text, a.text);
}

TEST_F(Generation, GreedyFollowsTheFullForwardsArgmax) {
    GenerateSettings s;
    s.sampling = SamplingSettings::greedy();
    s.max_tokens = 24;
    s.stop_at_eos = false;
    s.top_alternatives = 3;
    auto r = generate(*model_, "ab", s);
    const auto& tok = model_->require_tokenizer();
    std::vector<std::int32_t> seq = {tok.eos_id()};
    for (auto id : tok.encode("ab")) seq.push_back(id);
    for (std::size_t i = 0; i < r.ids.size(); ++i) {
        auto lp = model_->log_probs(seq);  // the LibTorch forward, not the decoder
        const float* last = lp.data() + (seq.size() - 1) * 259;
        const auto best = static_cast<std::int32_t>(std::max_element(last, last + 259) - last);
        ASSERT_EQ(r.ids[i], best) << "token " << i;
        EXPECT_NEAR(r.probs[i], std::exp(last[best]), 1e-4);
        ASSERT_EQ(r.top[i].size(), 3u);
        EXPECT_EQ(r.top[i][0].id, best);
        seq.push_back(best);
    }
}

TEST_F(Generation, StopStringsCallbacksAndCancellation) {
    GenerateSettings s;
    s.sampling = SamplingSettings::greedy();
    s.max_tokens = 30;
    s.stop_at_eos = false;
    const auto free_run = generate(*model_, "x", s);
    ASSERT_GE(free_run.text.size(), 6u);
    s.stop = {free_run.text.substr(3, 2)};
    std::string streamed;
    auto cut = generate(*model_, "x", s, [&](const TokenEvent& e) {
        streamed += e.piece;
        return true;
    });
    EXPECT_EQ(cut.stop_reason, "stop");
    EXPECT_EQ(cut.text, free_run.text.substr(0, free_run.text.find(s.stop[0])));
    EXPECT_EQ(streamed, cut.text);
    s.stop.clear();
    int calls = 0;
    auto cancelled = generate(*model_, "x", s, [&](const TokenEvent&) { return ++calls < 5; });
    EXPECT_EQ(cancelled.stop_reason, "cancelled");
    EXPECT_EQ(cancelled.ids.size(), 5u);
    s.max_tokens = 0;
    EXPECT_THROW(generate(*model_, "x", s), Error);
}

}  // namespace
}  // namespace itera
