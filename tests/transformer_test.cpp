// The Transformer baseline (docs/spec/transformer.md): its configuration and
// matched presets; the rotary embedding, windowed attention and the whole
// forward against double-precision references; the LibTorch KV cache and the
// torch-free decoder against the full forward, token for token, also past the
// attention window; checkpoints, compression and pruning accept it.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "compress/compress.h"
#include "compress/prune.h"
#include "infer/decoder.h"
#include "infer/inference_model.h"
#include "model/checkpoint.h"
#include "model/tensor_names.h"
#include "temp_dir.h"
#include "transformer_reference.h"
#include "util/error.h"

namespace itera {
namespace {

/// A small Transformer: V 37, d 16, 2 layers of 4 heads (hd 4), FFN 24, window W.
ModelConfig tiny(std::int64_t window = 2048) {
    ModelConfig c;
    c.arch = kTransformerArch;
    c.vocab_size = 37;
    c.hidden_size = 16;
    c.num_layers = 2;
    c.num_heads = 4;
    c.expert_size = 24;
    c.context_length = window;
    c.validate();
    return c.resolved();
}

/// A model whose norms and biases are off their initial values (every weight matters).
IteraModel random_model(const ModelConfig& c, std::uint64_t seed = 3) {
    IteraModel m(c);
    m->initialize(seed);
    torch::manual_seed(seed + 1);
    torch::NoGradGuard ng;
    for (auto& [name, p] : m->spec_parameters()) {
        if (p.dim() == 1)
            p.add_(torch::randn_like(p) * 0.3);
        else
            p.mul_(8.0);  // attention far from uniform: the test sees the mask
    }
    m->eval();
    return m;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

TEST(TransformerConfig, PresetsMatchIteraLiteWithinThreePercent) {
    for (const auto& name : ModelConfig::preset_names())
        for (std::int64_t V : {256, 4096, 32000}) {
            const auto itera = parameter_count(ModelConfig::preset(name, V));
            const auto t = ModelConfig::preset(name, V, {kTransformerArch});
            EXPECT_TRUE(t.is_transformer());
            const double ratio = double(parameter_count(t)) / double(itera);
            EXPECT_NEAR(ratio, 1.0, 0.03) << name << " V " << V;
            EXPECT_EQ(active_parameter_count(t), parameter_count(t));  // dense: all active
        }
}

TEST(TransformerConfig, JsonRoundTripAndKeysOfTheOtherArchitectureRefused) {
    const auto c = tiny(64);
    EXPECT_EQ(ModelConfig::from_json(c.to_json()), c);
    const auto j = c.to_json();
    EXPECT_NE(j.find("\"ffn_size\":24"), std::string::npos) << j;
    EXPECT_EQ(j.find("ssm_state_size"), std::string::npos) << j;
    auto refused = [](const std::string& text) {
        try {
            ModelConfig::from_json(text);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(refused(R"({"arch":"transformer","vocab_size":9,"ssm_state_size":4})")
                  .find("key of arch \"itera-lite-v2\""),
              std::string::npos);
    EXPECT_NE(refused(R"({"vocab_size":9,"num_heads":4})").find("unknown key \"num_heads\""),
              std::string::npos);
    EXPECT_NE(refused(R"({"arch":"transformer","vocab_size":9,"hidden_size":10,"num_heads":4})")
                  .find("must divide hidden_size"),
              std::string::npos);
    EXPECT_NE(refused(R"({"arch":"transformer","vocab_size":9,"hidden_size":12,"num_heads":4})")
                  .find("even"),
              std::string::npos);
    EXPECT_NE(refused(R"({"arch":"transformer","vocab_size":9,"context_length":0})")
                  .find("context_length"),
              std::string::npos);
    EXPECT_NE(refused(R"({"arch":"transformer","vocab_size":9,"rope_theta":1})").find("rope_theta"),
              std::string::npos);
    EXPECT_NE(refused(R"({"arch":"mamba","vocab_size":9})").find("arch must be"),
              std::string::npos);
}

TEST(TransformerConfig, AblationsOfItera) {
    const auto plain = ModelConfig::preset("mini", 512);
    const auto dense = ModelConfig::preset("mini", 512, {kIteraArch, false, 0});
    EXPECT_TRUE(dense.moe_layers.empty());
    EXPECT_LT(parameter_count(dense), parameter_count(plain));
    EXPECT_EQ(active_parameter_count(dense), parameter_count(dense));
    const auto n16 = ModelConfig::preset("mini", 512, {kIteraArch, true, 16});
    EXPECT_EQ(n16.ssm_state_size, 16);
    EXPECT_EQ(n16.moe_layers, plain.moe_layers);
    EXPECT_EQ(n16.variant(), (ModelVariant{kIteraArch, true, 16}));
    EXPECT_EQ(dense.variant().moe, false);
}

// Tolerance: both sides compute the same angles; float rounding of the result
// and of cos/sin: 1e-6 relative to the vector's size.
TEST(Transformer, RotaryEmbeddingMatchesTheDoubleReference) {
    torch::manual_seed(1);
    auto x = torch::randn({1, 2, 5, 8});
    const std::int64_t first = 1000;  // far positions: the angles must stay accurate
    auto got = rotary_embedding(x, first, 10000.0);
    for (std::int64_t h = 0; h < 2; ++h)
        for (std::int64_t t = 0; t < 5; ++t) {
            auto row = x[0][h][t].to(torch::kDouble).contiguous();
            std::vector<double> v(row.data_ptr<double>(), row.data_ptr<double>() + 8);
            auto want = testing::reference_rotate(v, first + t, 10000.0);
            for (std::int64_t i = 0; i < 8; ++i)
                EXPECT_NEAR(got[0][h][t][i].item<double>(), want[i], 2e-6);
        }
    // A rotation keeps the norm, and position 0 is the identity.
    EXPECT_LT(max_diff(rotary_embedding(x, 0, 10000.0).narrow(2, 0, 1), x.narrow(2, 0, 1)), 1e-7);
    EXPECT_LT(max_diff(rotary_embedding(x, 7, 500.0).norm(2, -1), x.norm(2, -1)), 1e-5);
}

/// Attention in double with standard autograd: the reference for ours.
torch::Tensor double_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, std::int64_t q0, std::int64_t k0,
                               std::int64_t window) {
    auto s = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(q.size(-1)));
    auto qp = torch::arange(q0, q0 + q.size(2)).unsqueeze(1);
    auto kp = torch::arange(k0, k0 + k.size(2)).unsqueeze(0);
    auto seen = (kp <= qp) & (qp - kp < window);
    s = s.masked_fill(seen.logical_not(), -INFINITY);
    return torch::matmul(torch::softmax(s, -1), v);
}

// Tolerance 1e-5 absolute on values of order 1 (float against double, sums of
// up to 12 terms); gradients from our hand-written backward against autograd.
TEST(Transformer, WindowedAttentionAndItsGradientMatchDoubleReference) {
    torch::manual_seed(2);
    for (std::int64_t window : {1, 3, 100}) {
        for (auto [Tq, Tk] : {std::pair<std::int64_t, std::int64_t>{9, 9}, {4, 12}}) {
            const std::int64_t q0 = 20 + (Tk - Tq), k0 = 20;
            auto q = torch::randn({2, 3, Tq, 6}, torch::requires_grad());
            auto k = torch::randn({2, 3, Tk, 6}, torch::requires_grad());
            auto v = torch::randn({2, 3, Tk, 6}, torch::requires_grad());
            auto dout = torch::randn({2, 3, Tq, 6});
            auto out = windowed_attention(q, k, v, q0, k0, window);
            (out * dout).sum().backward();
            auto qd = q.detach().to(torch::kDouble).requires_grad_();
            auto kd = k.detach().to(torch::kDouble).requires_grad_();
            auto vd = v.detach().to(torch::kDouble).requires_grad_();
            auto ref = double_attention(qd, kd, vd, q0, k0, window);
            (ref * dout.to(torch::kDouble)).sum().backward();
            EXPECT_LT(max_diff(out, ref), 1e-5) << "window " << window;
            EXPECT_LT(max_diff(q.grad(), qd.grad()), 1e-5);
            EXPECT_LT(max_diff(k.grad(), kd.grad()), 1e-5);
            EXPECT_LT(max_diff(v.grad(), vd.grad()), 1e-5);
        }
    }
    auto x = torch::zeros({1, 1, 2, 4});
    EXPECT_THROW(
        windowed_attention(x, torch::zeros({1, 1, 1, 4}), torch::zeros({1, 1, 1, 4}), 0, 0, 4),
        c10::Error);  // keys ending before the last query
}

// Tolerance 1e-4 absolute on logits of order 10 (float through 2 layers
// against double).
TEST(Transformer, ForwardMatchesTheSpecsDoubleReferenceAlsoPastTheWindow) {
    for (std::int64_t window : {2048, 5}) {
        const auto c = tiny(window);
        auto m = random_model(c);
        torch::manual_seed(4);
        auto tokens = torch::randint(c.vocab_size, {2, 13}, torch::kLong);
        torch::NoGradGuard ng;
        auto got = m->forward(tokens).logits;
        auto want = testing::reference_transformer_logits(c, testing::double_params(m), tokens);
        EXPECT_LT(max_diff(got, want), 1e-4) << "window " << window;
    }
}

// The cache: token-by-token forward with state equals the full forward (1e-5).
TEST(Transformer, CachedLibTorchForwardEqualsTheFullForward) {
    for (std::int64_t window : {2048, 4}) {
        const auto c = tiny(window);
        auto m = random_model(c);
        torch::manual_seed(5);
        auto tokens = torch::randint(c.vocab_size, {2, 11}, torch::kLong);
        torch::NoGradGuard ng;
        auto full = m->forward(tokens).logits;
        auto state = m->initial_state(2);
        auto first = m->forward(tokens.narrow(1, 0, 3), &state).logits;  // a 3-token chunk
        EXPECT_LT(max_diff(first, full.narrow(1, 0, 3)), 1e-5);
        for (std::int64_t t = 3; t < 11; ++t) {
            auto step = m->step(tokens.select(1, t), state);
            EXPECT_LT(max_diff(step, full.select(1, t)), 1e-5) << "t " << t;
            EXPECT_LE(state.layers[0].k.size(2), window - 1);
        }
    }
}

// The torch-free decoder from a checkpoint: each step's logits against the
// full forward (1e-4) with the same argmax, in one stream, absorbed in chunks,
// batched with sequences at different positions, and past the window.
TEST(Transformer, DecoderEqualsTheFullForwardTokenForToken) {
    testing::TempDir dir;
    for (std::int64_t window : {2048, 6}) {
        const auto c = tiny(window);
        auto m = random_model(c);
        const auto path = dir.path() / "t.safetensors";
        save_checkpoint(m, no_tokenizer_metadata(c.vocab_size), path);
        auto im = InferenceModel::load(path);
        torch::manual_seed(6);
        const std::int64_t T = 90;
        auto tokens = torch::randint(c.vocab_size, {2, T}, torch::kLong);
        torch::NoGradGuard ng;
        auto full = m->forward(tokens).logits;  // (2, T, V)
        std::vector<std::int32_t> ids0, ids1;
        for (std::int64_t t = 0; t < T; ++t) {
            ids0.push_back(static_cast<std::int32_t>(tokens[0][t].item<std::int64_t>()));
            ids1.push_back(static_cast<std::int32_t>(tokens[1][t].item<std::int64_t>()));
        }
        auto check = [&](const float* logits, std::int64_t b, std::int64_t t) {
            auto want = full[b][t];
            auto got = torch::from_blob(const_cast<float*>(logits), {c.vocab_size});
            EXPECT_LT(max_diff(got, want), 1e-4) << "window " << window << " b " << b << " t " << t;
            EXPECT_EQ(got.argmax().item<std::int64_t>(), want.argmax().item<std::int64_t>());
        };
        for (int threads : {1, 2}) {
            Decoder dec(im->decode_model(), 2, threads);
            // Sequence 0 absorbs 70 tokens (two chunks), checked at every position.
            dec.absorb(0, ids0.data(), 70, [&](std::int64_t first, std::int64_t n, const float* l) {
                for (std::int64_t i = 0; i < n; ++i) check(l + i * c.vocab_size, 0, first + i);
            });
            // Then both step together: sequence 1 from its start, 0 from 70.
            for (std::int64_t t = 0; t < 20; ++t) {
                const std::int64_t seqs[2] = {0, 1};
                const std::int32_t step_ids[2] = {ids0[static_cast<std::size_t>(70 + t)],
                                                  ids1[static_cast<std::size_t>(t)]};
                const float* l = dec.step_sequences(seqs, step_ids, 2);
                check(l, 0, 70 + t);
                check(l + c.vocab_size, 1, t);
            }
            EXPECT_EQ(dec.position(0), 90);
            if (window < 100) {  // trimmed: at most W-1 + max(W, 64) + 64 positions held
                EXPECT_LE(dec.state_bytes(0),
                          std::size_t(2 * c.num_layers * (window - 1 + 128) * c.hidden_size * 4));
            }
            dec.reset(0);
            EXPECT_EQ(dec.state_bytes(0), 0u);
            const float* again = dec.absorb(0, ids0.data(), 5);
            check(again, 0, 4);
        }
        // log_probs (LibTorch, chunked with the cache) and prefill agree too.
        auto lp = im->log_probs(ids0);
        auto want = torch::log_softmax(full[0], -1);
        EXPECT_LT(max_diff(torch::from_blob(lp.data(), {T, c.vocab_size}), want), 1e-4);
    }
}

TEST(Transformer, TrainsCompressesAndPrunes) {
    const auto c = tiny(32);
    IteraModel m(c);
    m->initialize(1);
    m->train();
    torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(3e-3));
    torch::manual_seed(9);
    auto seq = torch::randint(c.vocab_size, {4, 17}, torch::kLong);
    double first = 0, last = 0;
    for (int i = 0; i < 60; ++i) {
        opt.zero_grad();
        auto out = m->loss(seq);
        out.loss.backward();
        opt.step();
        (i == 0 ? first : last) = out.ce.item<double>();
    }
    EXPECT_LT(last, 0.5 * first) << "memorising 4 sequences";
    m->eval();

    testing::TempDir dir;
    const auto path = dir.path() / "t.safetensors";
    save_checkpoint(m, no_tokenizer_metadata(c.vocab_size), path);
    auto loaded = load_checkpoint(path);
    EXPECT_EQ(loaded.model->config(), c);
    for (const auto& scheme : {"int8", "int4", "nf4", "bf16"}) {
        CompressOptions o;
        o.scheme = parse_scheme(scheme);
        const auto out = dir.path() / (std::string(scheme) + ".safetensors");
        compress_checkpoint(path, o, out);
        auto im = InferenceModel::load(out);
        ASSERT_TRUE(im->compressed());
        Decoder dec(im->decode_model(), 1);
        const std::int32_t ids[3] = {1, 2, 3};
        const float* l = dec.absorb(0, ids, 3);
        for (std::int64_t v = 0; v < c.vocab_size; ++v) ASSERT_TRUE(std::isfinite(l[v]));
    }
    PruneOptions po;
    po.ffn_keep = 0.5;
    EXPECT_EQ(pruned_config(c, po).expert_size, 12);
    po.ffn_keep.reset();
    po.channels_keep = 0.5;
    EXPECT_THROW(pruned_config(c, po), Error);
}

}  // namespace
}  // namespace itera
