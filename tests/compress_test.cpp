// Compressed checkpoints: layout, loading, decoding against a LibTorch model
// holding the dequantized weights, and decoder-based evaluation. The schemes
// and matrix kernels alone: quantize_test.cpp.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <tuple>

#include "compress/compress.h"
#include "error_of.h"
#include "eval/compare.h"
#include "eval/eval_data.h"
#include "eval/evaluate.h"
#include "eval/quality_stats.h"
#include "format/half.h"
#include "format/safetensors.h"
#include "infer/decoder.h"
#include "infer/inference_model.h"
#include "infer/matrix.h"
#include "infer/score.h"
#include "model/checkpoint.h"
#include "temp_dir.h"
#include "util/error.h"
#include "util/kernel_path.h"
#include "workflows/compression.h"

namespace itera {
namespace {

class CompressedCheckpoint : public ::testing::Test {
protected:
    void SetUp() override {
        config_ = ModelConfig::preset("micro", 259);
        IteraModel m(config_);
        m->initialize(6);
        source_ = dir_.path() / "fp32.safetensors";
        save_checkpoint(m, make_byte_tokenizer()->serialize(), source_, {{"run_id", "42"}});
    }
    /// A LibTorch model holding exactly the weights the compressed file stands for.
    IteraModel dequantized_reference(Scheme s) {
        auto ref = load_checkpoint(source_).model;
        torch::NoGradGuard ng;
        for (auto& [name, p] : ref->spec_parameters()) {
            if (!compressible(name, p.sizes().vec())) continue;
            auto t = p.contiguous();
            auto q = quantize(t.data_ptr<float>(), p.size(0), p.size(1), s);
            auto d = dequantize(q);
            p.copy_(torch::from_blob(d.data(), p.sizes()).clone());
        }
        ref->eval();
        return ref;
    }
    testing::TempDir dir_;
    ModelConfig config_;
    std::filesystem::path source_;
};

TEST_F(CompressedCheckpoint, FilesFollowTheSpecAndAreSmaller) {
    for (auto s : {Scheme::F16, Scheme::BF16, Scheme::Int8, Scheme::Int4, Scheme::Nf4}) {
        const auto out = dir_.path() / (std::string(scheme_traits(s).name) + ".safetensors");
        CompressOptions o;
        o.scheme = s;
        auto r = compress_checkpoint(source_, o, out);
        EXPECT_EQ(r.bytes, std::filesystem::file_size(out));
        EXPECT_LT(r.bytes, r.source_bytes);
        auto f = SafetensorsFile::read(out);
        EXPECT_EQ(f.meta("run_id"), "42");
        auto quant = nlohmann::json::parse(f.meta("quantization"));
        EXPECT_EQ(quant["method"], scheme_traits(s).name);
        EXPECT_TRUE(quant["tensors"].contains("layers.0.mixer.in_proj.weight"));
        EXPECT_TRUE(quant["tensors"].contains("layers.0.mixer.x_proj.weight"));
        EXPECT_TRUE(quant["tensors"].contains("layers.1.ffn.router.weight"));
        for (const char* kept :
             {"layers.0.mixer.A_log", "layers.0.mixer.D", "layers.0.mixer.conv1d.weight",
              "layers.0.mixer.dt_proj.bias", "layers.0.mixer.norm.weight", "norm_f.bias"}) {
            EXPECT_FALSE(quant["tensors"].contains(kept)) << kept;
            EXPECT_EQ(f.get(kept).dtype, DType::F32) << kept;
        }
        if (s == Scheme::Int4 || s == Scheme::Nf4) {
            EXPECT_EQ(f.get("embed.weight.qweight").dtype, DType::U8);
            EXPECT_EQ(f.get("embed.weight.qweight").shape, (std::vector<std::int64_t>{259, 32}));
            EXPECT_EQ(f.get("embed.weight.scales").dtype, DType::F16);
            EXPECT_EQ(f.get("embed.weight.scales").shape, (std::vector<std::int64_t>{259, 1}));
            EXPECT_EQ(f.find("embed.weight.zeros") != nullptr,
                      s == Scheme::Int4);  // asymmetric int4
            EXPECT_EQ(quant["tensors"]["embed.weight"]["group_size"], 64);
            EXPECT_NEAR(r.bits_per_weight, 4.5, 0.3);
        } else if (s == Scheme::Int8) {
            EXPECT_EQ(f.get("embed.weight.qweight").dtype, DType::I8);
            EXPECT_EQ(f.get("embed.weight.scales").shape, (std::vector<std::int64_t>{259}));
            EXPECT_EQ(f.find("embed.weight"), nullptr);
            EXPECT_NEAR(r.bits_per_weight, 8.0, 0.5);
        } else {
            EXPECT_EQ(f.get("embed.weight").dtype, s == Scheme::F16 ? DType::F16 : DType::BF16);
            EXPECT_DOUBLE_EQ(r.bits_per_weight, 16.0);
        }
        EXPECT_THROW(compress_checkpoint(out, o, dir_.path() / "again.safetensors"), Error);
    }
    CompressOptions keep;
    keep.keep_float = {"dt_proj", "router"};
    compress_checkpoint(source_, keep, dir_.path() / "kept.safetensors");
    auto f = SafetensorsFile::read(dir_.path() / "kept.safetensors");
    EXPECT_EQ(f.get("layers.0.mixer.dt_proj.weight").dtype, DType::F32);
    EXPECT_EQ(f.get("layers.1.ffn.router.weight").dtype, DType::F32);
    EXPECT_EQ(f.get("layers.0.mixer.x_proj.weight.qweight").dtype, DType::I8);
}

TEST_F(CompressedCheckpoint, DecodesLikeTheDequantizedWeightsWithoutAnFp32Copy) {
    for (auto s : {Scheme::F16, Scheme::BF16, Scheme::Int8, Scheme::Int4, Scheme::Nf4}) {
        const auto out = dir_.path() / "c.safetensors";
        CompressOptions o;
        o.scheme = s;
        compress_checkpoint(source_, o, out);
        auto im = InferenceModel::load(out);
        EXPECT_TRUE(im->compressed());
        EXPECT_EQ(im->decode_model()->layers[0].mixer.in_proj->format(), scheme_traits(s).name);
        EXPECT_EQ(im->decode_model()->layers[0].mixer.x_proj->format(), scheme_traits(s).name);
        auto ref = dequantized_reference(s);
        torch::manual_seed(7);
        auto tokens = torch::randint(259, {1, 120}, torch::kLong);
        torch::NoGradGuard ng;
        auto full = ref->forward(tokens).logits[0];
        Decoder dec(im->decode_model(), 1);
        double worst = 0;
        for (int t = 0; t < 120; ++t) {
            const auto id = static_cast<std::int32_t>(tokens[0][t].item<std::int64_t>());
            const float* l = dec.step(&id);
            auto want = full[t].contiguous();
            for (int v = 0; v < 259; ++v)
                worst = std::max(worst, double(std::abs(l[v] - want.data_ptr<float>()[v])));
        }
        std::printf("%s: decoder vs dequantized LibTorch model, max error %.2e\n",
                    std::string(scheme_traits(s).name).c_str(), worst);
        EXPECT_LT(worst, 1e-4);
        // Prefill and log_probs of a compressed model go through the decoder too.
        std::vector<std::int32_t> ids = {258, 72, 105, 33};
        auto lp = im->log_probs(ids);
        ASSERT_EQ(lp.size(), 4u * 259u);
        for (int t = 0; t < 4; ++t) {
            double total = 0;
            for (int v = 0; v < 259; ++v) total += std::exp(double(lp[t * 259 + v]));
            EXPECT_NEAR(total, 1.0, 1e-5);
        }
        Decoder d2(im->decode_model(), 1);
        auto last = im->prefill(d2, 0, ids);
        EXPECT_EQ(d2.position(0), 4);
        const float top = *std::max_element(last.begin(), last.end());
        double lse = 0;
        for (float l : last) lse += std::exp(double(l - top));
        for (int v = 0; v < 259; ++v)  // the prefill's logits are the last row's, up to a constant
            EXPECT_NEAR(last[v] - top - std::log(lse), lp[3 * 259 + v], 1e-5);
    }
}

TEST_F(CompressedCheckpoint, DamagedFilesAreNamed) {
    const auto out = dir_.path() / "c.safetensors";
    CompressOptions o;
    o.scheme = Scheme::Int8;
    compress_checkpoint(source_, o, out);
    auto f = SafetensorsFile::read(out);
    auto rewrite = [&](const std::string& skip, const std::string& extra) {
        SafetensorsWriter w;
        for (const auto& [k, v] : f.metadata()) w.set_metadata(k, v);
        for (const auto& t : f.tensors())
            if (t.name != skip) w.add(t.name, t.dtype, t.shape, t.data, t.nbytes);
        if (!extra.empty()) {
            float one = 1;
            w.add(extra, DType::F32, {1}, &one, 4);
        }
        const auto p = dir_.path() / "damaged.safetensors";
        w.write(p);
        return p;
    };
    auto message = [](const std::filesystem::path& p) {
        try {
            InferenceModel::load(p);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message(rewrite("embed.weight.scales", "")).find("embed.weight.scales"),
              std::string::npos);
    EXPECT_NE(message(rewrite("", "stray.tensor")).find("unexpected tensor \"stray.tensor\""),
              std::string::npos);
}

TEST_F(CompressedCheckpoint, DecoderEvaluationMatchesLibTorchAndComparesModels) {
    std::string text;
    for (int i = 0; i < 40; ++i)
        text += "call me ishmael, some years ago " + std::to_string(i) + ".\n\n";
    std::ofstream(dir_.path() / "wiki.train.raw") << " = A = \n" << text;
    std::ofstream(dir_.path() / "wiki.valid.raw") << " = B = \n" << text;
    auto tok = make_byte_tokenizer();
    auto data =
        prepare_eval_data(Workspace::at(dir_.path()), dir_.path().string(), CorpusFormat::Auto,
                          *tok, Split::Validation, CacheBuildOptions{}, dir_.path() / "cache");
    EvalOptions eo;
    eo.seq_len = 64;
    eo.batch_size = 4;
    auto fp32 = InferenceModel::load(source_);
    auto torch_model = load_checkpoint(source_).model;
    auto a = evaluate(torch_model, *data.stream, *tok, data.bytes, eo);
    auto b = evaluate_decoder(*fp32, *data.stream, *tok, data.bytes, eo, 2);
    EXPECT_EQ(a.tokens, b.tokens);
    EXPECT_NEAR(a.loss, b.loss, 1e-5);
    EXPECT_NEAR(a.bits_per_byte, b.bits_per_byte, 1e-5);
    auto same = compare_models(*fp32, *fp32, *data.stream, *tok, data.bytes, eo, 1);
    EXPECT_NEAR(same.kld, 0.0, 1e-6);
    EXPECT_EQ(same.top1_agreement, 1.0);
    CompressOptions o;
    o.scheme = Scheme::Int8;
    compress_checkpoint(source_, o, dir_.path() / "i8.safetensors");
    auto i8 = InferenceModel::load(dir_.path() / "i8.safetensors");
    auto c = compare_models(*fp32, *i8, *data.stream, *tok, data.bytes, eo, 2);
    std::printf("int8 vs fp32 (random weights): ppl %.4f vs %.4f, KLD %.2e, top-1 %.4f\n",
                c.candidate.perplexity, c.reference.perplexity, c.kld, c.top1_agreement);
    EXPECT_NEAR(c.reference.loss, b.loss, 1e-9);
    EXPECT_GT(c.kld, 0.0);
    EXPECT_LT(c.kld, 1e-2);
    EXPECT_GT(c.top1_agreement, 0.9);

    // Kept per token, the figures are the ones the means were made of.
    auto t = compare_models(*fp32, *i8, *data.stream, *tok, data.bytes, eo, 2, true);
    const auto& pt = t.per_token;
    ASSERT_EQ(static_cast<std::int64_t>(pt.kld.size()), t.reference.tokens);
    double nll_a = 0, nll_b = 0, kld = 0, agree = 0;
    for (std::size_t i = 0; i < pt.kld.size(); ++i) {
        nll_a += pt.nll_reference[i];
        nll_b += pt.nll_candidate[i];
        kld += pt.kld[i];
        agree += pt.same_top[i];
        EXPECT_NEAR(pt.p_reference[i], std::exp(-pt.nll_reference[i]), 1e-6);
        EXPECT_GE(pt.kld[i], -1e-6);
    }
    const double n = static_cast<double>(pt.kld.size());
    EXPECT_NEAR(nll_a / n, t.reference.loss, 1e-5);
    EXPECT_NEAR(nll_b / n, t.candidate.loss, 1e-5);
    EXPECT_NEAR(kld / n, t.kld, 1e-6 + 1e-4 * t.kld);
    EXPECT_DOUBLE_EQ(agree / n, t.top1_agreement);
}

TEST_F(CompressedCheckpoint, QualityStatisticsMatchASlowPerTokenReferenceInDouble) {
    // The statistics a compression report shows, against a reference that
    // steps two decoders token by token over the same windows and computes
    // every per-token figure and every statistic in double.
    std::string text;
    for (int i = 0; i < 30; ++i)
        text += "it was the best of times, it was the worst " + std::to_string(i) + ".\n\n";
    std::ofstream(dir_.path() / "wiki.train.raw") << " = A = \n" << text;
    std::ofstream(dir_.path() / "wiki.valid.raw") << " = B = \n" << text;
    auto tok = make_byte_tokenizer();
    auto data =
        prepare_eval_data(Workspace::at(dir_.path()), dir_.path().string(), CorpusFormat::Auto,
                          *tok, Split::Validation, CacheBuildOptions{}, dir_.path() / "cache");
    CompressOptions o;
    o.scheme = Scheme::Int4;
    compress_checkpoint(source_, o, dir_.path() / "i4.safetensors");
    auto a = InferenceModel::load(source_);
    auto b = InferenceModel::load(dir_.path() / "i4.safetensors");
    EvalOptions eo;
    eo.seq_len = 48;
    eo.batch_size = 3;
    eo.max_tokens = 600;
    const auto got = quality_statistics(
        compare_models(*a, *b, *data.stream, *tok, data.bytes, eo, 1, true).per_token);

    const auto et = eval_tokens(*data.stream, *tok, data.bytes, eo.max_tokens);
    const std::int64_t n = et.targets(), T = eo.seq_len, V = config_.vocab_size;
    std::vector<double> nll_a, nll_b, kld, dp;
    double same = 0;
    auto log_softmax = [&](const float* x) {
        std::vector<double> v(x, x + V);
        const double top = *std::max_element(v.begin(), v.end());
        double total = 0;
        for (double e : v) total += std::exp(e - top);
        for (double& e : v) e = e - top - std::log(total);
        return v;
    };
    for (std::int64_t w0 = 0; w0 < n; w0 += T) {
        Decoder da(a->decode_model(), 1), db(b->decode_model(), 1);
        for (std::int64_t pos = w0; pos < std::min(n, w0 + T); ++pos) {
            const auto in = static_cast<std::int32_t>(et.ids[static_cast<std::size_t>(pos)]);
            const auto target = et.ids[static_cast<std::size_t>(pos + 1)];
            const auto la = log_softmax(da.step(&in));
            const auto lb = log_softmax(db.step(&in));
            double k = 0;
            for (std::int64_t v = 0; v < V; ++v) k += std::exp(la[v]) * (la[v] - lb[v]);
            nll_a.push_back(-la[target]);
            nll_b.push_back(-lb[target]);
            kld.push_back(k);
            dp.push_back(std::exp(lb[target]) - std::exp(la[target]));
            same += std::max_element(la.begin(), la.end()) - la.begin() ==
                    std::max_element(lb.begin(), lb.end()) - lb.begin();
        }
    }
    const double N = static_cast<double>(kld.size());
    ASSERT_EQ(got.tokens, static_cast<std::int64_t>(kld.size()));
    auto mean = [](const std::vector<double>& v) {
        double s = 0;
        for (double x : v) s += x;
        return s / static_cast<double>(v.size());
    };
    auto sample_cov = [&](const std::vector<double>& x, const std::vector<double>& y) {
        const double mx = mean(x), my = mean(y);
        double s = 0;
        for (std::size_t i = 0; i < x.size(); ++i) s += (x[i] - mx) * (y[i] - my);
        return s / (static_cast<double>(x.size()) - 1);
    };
    const double ln_ratio = mean(nll_b) - mean(nll_a);
    const double ln_unc = std::sqrt(
        (sample_cov(nll_a, nll_a) + sample_cov(nll_b, nll_b) - 2 * sample_cov(nll_a, nll_b)) / N);
    // Tolerances: the decoder keeps per-token figures in float (relative
    // ~1e-7 each); means of a few hundred of them agree to ~1e-6.
    EXPECT_NEAR(got.ppl_base, std::exp(mean(nll_a)), 1e-5 * got.ppl_base);
    EXPECT_NEAR(got.ppl, std::exp(mean(nll_b)), 1e-5 * got.ppl);
    EXPECT_NEAR(got.ln_ppl_ratio, ln_ratio, 1e-5 * std::abs(ln_ratio) + 1e-6);
    EXPECT_NEAR(got.ln_ppl_ratio_unc, ln_unc, 1e-3 * ln_unc);
    EXPECT_NEAR(got.kld_mean, mean(kld), 1e-4 * mean(kld) + 1e-7);
    EXPECT_NEAR(got.kld_unc, std::sqrt(sample_cov(kld, kld) / N), 1e-3 * got.kld_unc + 1e-7);
    std::sort(kld.begin(), kld.end());
    // One token's KLD, summed in float over the vocabulary: absolute ~1e-6.
    EXPECT_NEAR(got.kld.max, kld.back(), 1e-3 * kld.back() + 1e-6);
    EXPECT_NEAR(got.dp_mean, mean(dp), 1e-6);
    EXPECT_DOUBLE_EQ(got.same_top, same / N);
    std::printf("int4 vs fp32 over %lld tokens: ln(PPL ratio) %.5f ± %.5f, KLD %.5f ± %.5f\n",
                static_cast<long long>(got.tokens), got.ln_ppl_ratio, got.ln_ppl_ratio_unc,
                got.kld_mean, got.kld_unc);
}

TEST_F(CompressedCheckpoint, TeacherForcedKlIsThePerPositionKlOfTwoDecoders) {
    CompressOptions o;
    o.scheme = Scheme::Int4;
    compress_checkpoint(source_, o, dir_.path() / "i4.safetensors");
    auto a = InferenceModel::load(source_);
    auto b = InferenceModel::load(dir_.path() / "i4.safetensors");
    const auto ids = a->require_tokenizer().encode("Call me Ishmael. Some years ago, never mind.");
    const std::size_t from = 5;
    const auto kl = teacher_forced_kl(*a, *b, ids, from);
    ASSERT_EQ(kl.size(), ids.size() - 1 - from);

    // Reference: two decoders stepped token by token, softmax and KL in double.
    Decoder da(a->decode_model(), 1), db(b->decode_model(), 1);
    const auto V = config_.vocab_size;
    double worst = 0, mean = 0;
    for (std::size_t t = 0; t + 1 < ids.size(); ++t) {
        const float* x = da.step(&ids[t]);
        std::vector<double> pa(x, x + V);
        const float* y = db.step(&ids[t]);
        std::vector<double> pb(y, y + V);
        if (t < from) continue;
        auto log_softmax = [&](std::vector<double>& v) {
            const double top = *std::max_element(v.begin(), v.end());
            double total = 0;
            for (double e : v) total += std::exp(e - top);
            for (double& e : v) e = e - top - std::log(total);
        };
        log_softmax(pa);
        log_softmax(pb);
        double want = 0;
        for (std::int64_t v = 0; v < V; ++v) want += std::exp(pa[v]) * (pa[v] - pb[v]);
        worst = std::max(worst, std::abs(want - kl[t - from]));
        mean += want / kl.size();
    }
    std::printf("teacher-forced KL(fp32 || int4), random weights: mean %.3e, max error %.2e\n",
                mean, worst);
    EXPECT_GT(mean, 0.0);
    EXPECT_LT(worst, 1e-5 + 1e-3 * mean);

    const auto same = teacher_forced_kl(*a, *a, ids, 0);
    for (double k : same) EXPECT_LT(k, 1e-6);
    EXPECT_TRUE(teacher_forced_kl(*a, *b, ids, ids.size()).empty());
}

TEST_F(CompressedCheckpoint, AFailedMeasurementLeavesNoOutputFile) {
    // The file is written and measured under a temporary name and renamed only
    // when everything succeeded: here the held-out corpus does not exist.
    const auto out = dir_.path() / "m-int8.safetensors";
    MeasureRequest m;
    m.eval_data = (dir_.path() / "no-such-corpus.txt").string();
    CompressOptions o;
    o.scheme = Scheme::Int8;
    const auto e = testing::error_of(
        [&] { compress_and_measure(Workspace::at(dir_.path()), source_, o, out, m); });
    EXPECT_NE(e.find("no-such-corpus.txt"), std::string::npos) << e;
    EXPECT_FALSE(std::filesystem::exists(out));
    for (const auto& f : std::filesystem::directory_iterator(dir_.path()))
        EXPECT_EQ(f.path().filename().string().find(".tmp-"), std::string::npos) << f.path();
    // An existing file of that name is left as it was.
    std::ofstream(out) << "an earlier model";
    EXPECT_NE(testing::error_of(
                  [&] { compress_and_measure(Workspace::at(dir_.path()), source_, o, out, m); }),
              "");
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, "an earlier model");
}

}  // namespace
}  // namespace itera
