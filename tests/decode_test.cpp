// The recurrent decoder against the LibTorch full forward and the double
// reference, over 240 steps and several shapes (padded rows, N = 16, K = 3,
// k = 3 of 5 experts); prefill hand-over; batched and threaded decoding
// bitwise equal to single-stream; scoring.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstring>

#include "infer/decoder.h"
#include "infer/inference_model.h"
#include "infer/score.h"
#include "model/checkpoint.h"
#include "reference_model.h"
#include "temp_dir.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace itera {
namespace {

struct Case {
    const char* name;
    ModelConfig config;
};

std::vector<Case> cases() {
    auto odd = ModelConfig::preset("micro", 301);
    odd.hidden_size = 72;  // rows of 72 and 144 floats: padded to 80 and 144
    odd.ssm_state_size = 16;
    odd.ssm_conv_kernel = 3;
    odd.num_experts = 5;
    odd.top_k_experts = 3;
    odd.expert_size = 100;
    odd.moe_layers = {0, 2};
    odd.moe_layers_default = false;
    return {{"micro", ModelConfig::preset("micro", 259)},
            {"quality", ModelConfig::preset("quality", 4096)},
            {"odd", odd.resolved()}};
}

/// A model whose norms, biases and D are not at their initial values, so every
/// weight matters, written to `path` with the byte tokenizer when it fits.
IteraModel saved_model(const ModelConfig& c, const std::filesystem::path& path) {
    IteraModel m(c);
    m->initialize(7);
    torch::manual_seed(8);
    {
        torch::NoGradGuard ng;
        for (auto& [name, p] : m->spec_parameters())
            if (p.dim() == 1) p.add_(torch::randn_like(p) * 0.3);
    }
    m->eval();
    const auto tok = c.vocab_size == 259 ? make_byte_tokenizer()->serialize()
                                         : no_tokenizer_metadata(c.vocab_size);
    save_checkpoint(m, tok, path);
    return m;
}

double max_abs_diff(const float* a, const torch::Tensor& b) {
    auto bd = b.to(torch::kDouble).contiguous();
    double worst = 0;
    for (std::int64_t i = 0; i < bd.numel(); ++i)
        worst = std::max(worst, std::abs(a[i] - bd.data_ptr<double>()[i]));
    return worst;
}

TEST(Decode, StepsMatchFullForwardAndReferenceOver240Steps) {
    testing::TempDir dir;
    for (const auto& [name, c] : cases()) {
        auto m = saved_model(c, dir.path() / "m.safetensors");
        auto im = InferenceModel::load(dir.path() / "m.safetensors");
        torch::manual_seed(11);
        const std::int64_t T = 240;
        auto tokens = torch::randint(c.vocab_size, {1, T}, torch::kLong);
        torch::NoGradGuard ng;
        auto full = m->forward(tokens).logits[0];  // (T, V)
        const std::int64_t R = 48;  // the double reference is slow: its first R positions
        auto ref =
            testing::reference_logits(c, testing::double_params(m), tokens.narrow(1, 0, R))[0];
        Decoder dec(im->decode_model(), 1);
        double worst = 0, worst_ref = 0, scale = 0;
        for (std::int64_t t = 0; t < T; ++t) {
            const auto id = static_cast<std::int32_t>(tokens[0][t].item<std::int64_t>());
            const float* logits = dec.step(&id);
            worst = std::max(worst, max_abs_diff(logits, full[t]));
            if (t < R) worst_ref = std::max(worst_ref, max_abs_diff(logits, ref[t]));
            scale = std::max(scale, full[t].abs().max().item<double>());
        }
        std::printf(
            "%s: %lld decoder steps, max |decoder - full forward| = %.3e, "
            "max |decoder - double reference| = %.3e (logits up to %.2f)\n",
            name, static_cast<long long>(T), worst, worst_ref, scale);
        EXPECT_LT(worst, 1e-4) << name;
        EXPECT_LT(worst_ref, 1e-4) << name;
        EXPECT_EQ(dec.position(0), T);
    }
}

TEST(Decode, PrefillHandsItsStateToTheDecoder) {
    testing::TempDir dir;
    for (const auto& [name, c] : cases()) {
        auto m = saved_model(c, dir.path() / "m.safetensors");
        auto im = InferenceModel::load(dir.path() / "m.safetensors");
        torch::manual_seed(12);
        auto tokens = torch::randint(c.vocab_size, {1, 200}, torch::kLong);
        std::vector<std::int32_t> ids(200);
        for (int t = 0; t < 200; ++t)
            ids[t] = static_cast<std::int32_t>(tokens[0][t].item<std::int64_t>());
        torch::NoGradGuard ng;
        auto full = m->forward(tokens).logits[0];
        Decoder dec(im->decode_model(), 2);
        dec.reset(1);
        // Two prefills continuing each other, then steps.
        im->prefill(dec, 1, {ids.begin(), ids.begin() + 60});
        auto last = im->prefill(dec, 1, {ids.begin() + 60, ids.begin() + 120});
        double worst = max_abs_diff(last.data(), full[119]);
        std::vector<std::int32_t> pair(2, 0);
        for (int t = 120; t < 200; ++t) {
            pair[1] = ids[t];
            const float* logits = dec.step(pair.data());
            worst = std::max(worst, max_abs_diff(logits + c.vocab_size, full[t]));
        }
        std::printf("%s: prefill 2 × 60 + 80 steps, max error %.3e\n", name, worst);
        EXPECT_LT(worst, 1e-4) << name;
        EXPECT_EQ(dec.position(1), 200);
    }
}

TEST(Decode, BatchedAndThreadedDecodingEqualSingleStreamBitForBit) {
    testing::TempDir dir;
    for (const auto& [name, c] : cases()) {
        saved_model(c, dir.path() / "m.safetensors");
        auto im = InferenceModel::load(dir.path() / "m.safetensors");
        const std::int64_t B = 3, T = 40;
        std::vector<std::int32_t> toks(B * T);
        for (std::size_t i = 0; i < toks.size(); ++i)
            toks[i] =
                static_cast<std::int32_t>((i * 7919 + 13) % static_cast<std::size_t>(c.vocab_size));
        Decoder batched(im->decode_model(), B, 1), threaded(im->decode_model(), B, 2);
        std::vector<std::unique_ptr<Decoder>> single;
        for (int b = 0; b < B; ++b)
            single.push_back(std::make_unique<Decoder>(im->decode_model(), 1));
        const auto V = c.vocab_size;
        for (std::int64_t t = 0; t < T; ++t) {
            std::vector<std::int32_t> step(B);
            for (int b = 0; b < B; ++b) step[b] = toks[b * T + t];
            const float* lb = batched.step(step.data());
            const float* lt = threaded.step(step.data());
            EXPECT_EQ(std::memcmp(lb, lt, sizeof(float) * B * V), 0) << name << " step " << t;
            for (int b = 0; b < B; ++b) {
                const float* ls = single[b]->step(&step[b]);
                ASSERT_EQ(std::memcmp(lb + b * V, ls, sizeof(float) * V), 0)
                    << name << " seq " << b;
            }
        }
    }
}

TEST(Decode, AbsorbEqualsSteppingBitForBit) {
    testing::TempDir dir;
    for (const auto& [name, c] : cases()) {
        saved_model(c, dir.path() / "m.safetensors");
        auto im = InferenceModel::load(dir.path() / "m.safetensors");
        const auto V = c.vocab_size;
        // 150 tokens: two full chunks of 64 and a short one.
        const std::int64_t n = 2 * Decoder::kAbsorbChunk + 22;
        std::vector<std::int32_t> toks(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < toks.size(); ++i)
            toks[i] = static_cast<std::int32_t>((i * 104729 + 7) % static_cast<std::size_t>(V));
        for (int threads : {1, 2}) {
            Decoder stepped(im->decode_model(), 2, threads),
                absorbed(im->decode_model(), 2, threads);
            std::vector<float> every(static_cast<std::size_t>(n * V));
            stepped.reset(1);
            absorbed.step_sequences(std::vector<std::int64_t>{0}.data(), toks.data(), 1);
            const float* last = absorbed.absorb(
                1, toks.data(), n, [&](std::int64_t first, std::int64_t count, const float* l) {
                    std::memcpy(every.data() + first * V, l, sizeof(float) * count * V);
                });
            for (std::int64_t t = 0; t < n; ++t) {
                const std::int64_t one = 1;
                const float* l =
                    stepped.step_sequences(&one, &toks[static_cast<std::size_t>(t)], 1);
                ASSERT_EQ(std::memcmp(l, every.data() + t * V, sizeof(float) * V), 0)
                    << name << " threads " << threads << " position " << t;
            }
            EXPECT_EQ(std::memcmp(last, every.data() + (n - 1) * V, sizeof(float) * V), 0);
            EXPECT_EQ(absorbed.position(1), n);
            EXPECT_EQ(absorbed.position(0), 1);  // the other sequence untouched
            // The state it leaves is the stepped one: the next token agrees too.
            const std::int64_t one = 1;
            const float* a = absorbed.step_sequences(&one, &toks[0], 1);
            std::vector<float> a_copy(a, a + V);
            const float* b = stepped.step_sequences(&one, &toks[0], 1);
            EXPECT_EQ(std::memcmp(a_copy.data(), b, sizeof(float) * V), 0) << name;
            // Without a sink only the last position's logits are computed, the same bits.
            Decoder quick(im->decode_model(), 1, threads);
            const float* q = quick.absorb(0, toks.data(), n);
            EXPECT_EQ(std::memcmp(q, every.data() + (n - 1) * V, sizeof(float) * V), 0) << name;
        }
    }
    Decoder dec(InferenceModel::initialised(ModelConfig::preset("micro", 259), 1)->decode_model(),
                1);
    const std::int32_t bad[] = {3, 259};
    EXPECT_THROW(dec.absorb(0, bad, 2), Error);
    EXPECT_THROW(dec.absorb(1, bad, 1), Error);
    EXPECT_THROW(dec.absorb(0, bad, 0), Error);
    EXPECT_EQ(dec.position(0), 0);  // a refused call absorbs nothing
}

TEST(Decode, StepSequencesAdvancesOnlyTheGivenSequences) {
    testing::TempDir dir;
    auto c = ModelConfig::preset("micro", 259);
    saved_model(c, dir.path() / "m.safetensors");
    auto im = InferenceModel::load(dir.path() / "m.safetensors");
    Decoder batch(im->decode_model(), 3, 2);
    std::vector<std::unique_ptr<Decoder>> single;
    for (int b = 0; b < 3; ++b) single.push_back(std::make_unique<Decoder>(im->decode_model(), 1));
    const auto V = c.vocab_size;
    for (int t = 0; t < 30; ++t) {
        // Sequence 1 only every third step, the others in changing order.
        std::vector<std::int64_t> seqs =
            t % 3 ? std::vector<std::int64_t>{2, 0} : std::vector<std::int64_t>{0, 1, 2};
        std::vector<std::int32_t> toks;
        for (auto s : seqs) toks.push_back(static_cast<std::int32_t>((t * 31 + s * 7) % V));
        const float* lb =
            batch.step_sequences(seqs.data(), toks.data(), static_cast<std::int64_t>(seqs.size()));
        for (std::size_t i = 0; i < seqs.size(); ++i) {
            const float* ls = single[seqs[i]]->step(&toks[i]);
            ASSERT_EQ(std::memcmp(lb + i * V, ls, sizeof(float) * V), 0) << "step " << t;
        }
    }
    EXPECT_EQ(batch.position(1), 10);
    EXPECT_EQ(batch.position(0), 30);
    const std::int64_t twice[] = {1, 1};
    const std::int32_t toks[] = {3, 4};
    EXPECT_THROW(batch.step_sequences(twice, toks, 2), Error);
}

TEST(Decode, BadTokensAndShapesAreClearErrors) {
    testing::TempDir dir;
    auto c = ModelConfig::preset("micro", 259);
    saved_model(c, dir.path() / "m.safetensors");
    auto im = InferenceModel::load(dir.path() / "m.safetensors");
    Decoder dec(im->decode_model(), 1);
    const std::int32_t bad = 259;
    EXPECT_THROW(dec.step(&bad), Error);
    EXPECT_THROW(im->prefill(dec, 0, {}), Error);
    EXPECT_THROW(im->prefill(dec, 0, {5, -1}), Error);
    EXPECT_THROW(Decoder(im->decode_model(), 0), Error);
}

TEST(Score, LogProbsAreTheDecodersAndTopIsSorted) {
    testing::TempDir dir;
    auto c = ModelConfig::preset("micro", 259);
    saved_model(c, dir.path() / "m.safetensors");
    auto im = InferenceModel::load(dir.path() / "m.safetensors");
    const std::string text = "Call me Ishmael. Naïve café.";
    auto r = score_text(*im, text, /*bos=*/false, 5);
    ASSERT_EQ(r.tokens, im->require_tokenizer().encode(text));
    ASSERT_EQ(r.logprobs.size(), r.tokens.size() - 1);
    ASSERT_EQ(r.top.size(), r.tokens.size());
    Decoder dec(im->decode_model(), 1);
    double worst = 0;
    for (std::size_t i = 0; i + 1 < r.tokens.size(); ++i) {
        const float* logits = dec.step(&r.tokens[i]);
        double top = -1e30, total = 0;
        for (int v = 0; v < c.vocab_size; ++v) top = std::max<double>(top, logits[v]);
        for (int v = 0; v < c.vocab_size; ++v) total += std::exp(logits[v] - top);
        const double want = logits[r.tokens[i + 1]] - top - std::log(total);
        worst = std::max(worst, std::abs(want - r.logprobs[i]));
        ASSERT_EQ(r.top[i].size(), 5u);
        for (std::size_t j = 1; j < 5; ++j) EXPECT_GE(r.top[i][j - 1].logprob, r.top[i][j].logprob);
        EXPECT_GE(r.top[i][0].logprob, r.logprobs[i]);
    }
    std::printf("score: max |log p(score) - log p(decoder)| = %.3e\n", worst);
    EXPECT_LT(worst, 1e-4);
    auto with_bos = score_text(*im, text, /*bos=*/true, 5);
    EXPECT_EQ(with_bos.tokens.front(), im->require_tokenizer().bos_id());
    EXPECT_EQ(with_bos.logprobs.size(), r.tokens.size());
    EXPECT_TRUE(score_text(*im, "", false).tokens.empty());
}

}  // namespace
}  // namespace itera
