// Compression: the 16-bit conversions against the compiler's own _Float16,
// each scheme's error, each matrix kernel against the dequantized weights,
// compressed checkpoints (layout, loading, decoding against a LibTorch model
// holding the dequantized weights), and decoder-based evaluation.

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

TEST(Half, EveryHalfRoundTripsAndFloatsRoundLikeTheCompiler) {
    for (std::uint32_t h = 0; h < 65536; ++h) {
        const float f = half_to_float(static_cast<std::uint16_t>(h));
        _Float16 ref;
        const auto bits = static_cast<std::uint16_t>(h);
        std::memcpy(&ref, &bits, 2);
        if (std::isnan(f)) {
            ASSERT_TRUE(std::isnan(static_cast<float>(ref)));
            continue;
        }
        ASSERT_EQ(float_bits(f), float_bits(static_cast<float>(ref))) << h;
        ASSERT_EQ(float_to_half(f), bits) << h;
    }
    std::mt19937 gen(1);
    std::uniform_int_distribution<std::uint32_t> any;
    for (int i = 0; i < 200000; ++i) {  // random float bit patterns, every range
        const float f = bits_float(any(gen));
        if (std::isnan(f)) continue;
        const _Float16 ref = static_cast<_Float16>(f);
        std::uint16_t want;
        std::memcpy(&want, &ref, 2);
        ASSERT_EQ(float_to_half(f), want) << f;
    }
}

TEST(Half, Bf16RoundsToNearestEven) {
    EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(float_to_bf16(bits_float(0x3f808000u)), 0x3f80);  // tie → even
    EXPECT_EQ(float_to_bf16(bits_float(0x3f818000u)), 0x3f82);  // tie → even (up)
    EXPECT_EQ(float_to_bf16(bits_float(0x3f808001u)), 0x3f81);
    EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
    std::mt19937 gen(2);
    std::normal_distribution<float> normal;
    for (int i = 0; i < 10000; ++i) {
        const float f = normal(gen);
        EXPECT_LE(std::abs(bf16_to_float(float_to_bf16(f)) - f), std::abs(f) * 0x1p-8f);
    }
}

std::vector<float> random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> w(static_cast<std::size_t>(rows * cols));
    for (auto& v : w) v = normal(gen);
    return w;
}

TEST(Quantize, EachSchemesErrorIsWhatItsStepPredicts) {
    const auto w = random_matrix(64, 200, 3);
    struct Want {
        Scheme s;
        double max_rel_rms;
    };
    // f16: 11 significant bits; bf16: 8; int8: step amax/127 (amax ≈ 3.5σ here).
    for (auto [s, bound] :
         {Want{Scheme::F16, 3e-4}, Want{Scheme::BF16, 3e-3}, Want{Scheme::Int8, 1.2e-2}}) {
        auto q = quantize(w.data(), 64, 200, s);
        auto e = quant_error(w.data(), q);
        std::printf("%s: relative RMS error %.2e, SQNR %.1f dB\n",
                    std::string(scheme_traits(s).name).c_str(), e.rel_rms, e.sqnr_db);
        EXPECT_LT(e.rel_rms, bound);
        EXPECT_GT(e.rel_rms, 0);
    }
    // 4-bit, groups of 64: asymmetric int4 steps by range / 15, nf4 by its code book.
    for (auto [s, sym] :
         {std::pair{Scheme::Int4, false}, {Scheme::Int4, true}, {Scheme::Nf4, false}}) {
        auto q = quantize(w.data(), 64, 200, QuantSettings{s, 64, sym});
        auto e = quant_error(w.data(), q);
        std::printf("%s%s g64: relative RMS error %.3f, SQNR %.1f dB\n",
                    std::string(scheme_traits(s).name).c_str(), sym ? " (symmetric)" : "",
                    e.rel_rms, e.sqnr_db);
        EXPECT_LT(e.rel_rms, 0.15);
        EXPECT_EQ(q.groups(), 4);  // 200 columns: 3 full groups and one of 8
        EXPECT_EQ(q.packed.size(), 64u * 100u);
    }
    EXPECT_THROW(quantize(w.data(), 64, 200, QuantSettings{Scheme::Int4, 40, false}), Error);
    auto q = quantize(w.data(), 64, 200, Scheme::Int8);
    EXPECT_EQ(q.stored_bytes(), 64u * 200u + 64u * 4u);
    std::vector<float> bad = w;
    bad[5] = NAN;
    EXPECT_THROW(quantize(bad.data(), 64, 200, Scheme::Int8), Error);
    EXPECT_THROW(parse_scheme("int3"), Error);
}

/// How far a kernel may be from Σ_c w[r, c] · x[c] in double: float
/// rounding, plus for the integer kernels the input's 16-bit rounding
/// (|Δx_c| ≤ max|x| / 65534) and, for nf4, its code table in units of 1/8192
/// (|Δw| ≤ scale / 16384).
double allowed_error(const QuantizedMatrix& q, const std::vector<float>& d, const float* x,
                     std::int64_t r) {
    double wx = 0, w = 0, table = 0, top = 0;
    for (std::int64_t c = 0; c < q.cols; ++c) top = std::max(top, double(std::abs(x[c])));
    for (std::int64_t c = 0; c < q.cols; ++c) {
        const double dw = std::abs(d[r * q.cols + c]);
        wx += dw * std::abs(x[c]);
        w += dw;
        if (q.scheme == Scheme::Nf4)
            table += q.scales[r * q.groups() + c / q.group_size] / 16384.0 * std::abs(x[c]);
    }
    const bool integer_kernel = q.scheme != Scheme::F16 && q.scheme != Scheme::BF16;
    return 1e-6 * (1 + wx) + (integer_kernel ? w * top / 65534.0 + table : 0.0);
}

/// Runs `m` on three vectors and checks every output against the double
/// sum over the dequantized weights within allowed_error; a lone vector
/// must give the same bits as inside the batch.
void expect_kernel_matches(const Matrix& m, const QuantizedMatrix& q, const std::string& what) {
    const auto d = dequantize(q);
    const std::int64_t rows = q.rows, cols = q.cols, batch = 3;
    auto x = random_matrix(batch, cols, 5);
    for (std::int64_t c = 0; c < cols; c += 7) x[c] *= 10;  // a few large inputs in vector 0
    std::vector<float> y(static_cast<std::size_t>(batch * rows)),
        y1(static_cast<std::size_t>(rows));
    m.multiply(x.data(), batch, y.data(), 0, rows);
    double worst = 0, worst_allowed = 0;
    for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t r = 0; r < rows; ++r) {
            double want = 0;
            for (std::int64_t c = 0; c < cols; ++c)
                want += double(d[r * cols + c]) * x[b * cols + c];
            const double err = std::abs(want - y[b * rows + r]);
            const double allowed = allowed_error(q, d, x.data() + b * cols, r);
            if (err / allowed > worst / std::max(worst_allowed, 1e-30)) {
                worst = err;
                worst_allowed = allowed;
            }
            ASSERT_LE(err, allowed) << what << " row " << r << " vector " << b;
        }
    std::printf("%s: max error %.2e (allowed there %.2e)\n", what.c_str(), worst, worst_allowed);
    m.multiply(x.data() + 2 * cols, 1, y1.data(), 0, rows);  // a lone vector: the same bits
    EXPECT_EQ(std::memcmp(y1.data(), y.data() + 2 * rows, sizeof(float) * rows), 0) << what;
    // Rows split as threads split them (multiples of 16) give the same bits too.
    if (rows > 16) {
        std::vector<float> y2(static_cast<std::size_t>(batch * rows));
        m.multiply(x.data(), batch, y2.data(), 0, 16);
        m.multiply(x.data(), batch, y2.data(), 16, rows);
        EXPECT_EQ(std::memcmp(y2.data(), y.data(), sizeof(float) * y.size()), 0) << what;
    }
    std::vector<float> row(static_cast<std::size_t>(cols));
    m.row(rows - 1, row.data());
    for (std::int64_t c = 0; c < cols; ++c)
        ASSERT_NEAR(row[c], d[(rows - 1) * cols + c], 1e-7) << what;
    EXPECT_EQ(m.format(), scheme_traits(q.scheme).name);
}

/// Every kernel path this CPU can run (scalar, AVX2, AVX-512 VNNI), each
/// made the current one while `body(name)` runs.
template <class Body>
void for_each_kernel_path(Body body) {
    for (int p = 0; p <= static_cast<int>(cpu_kernel_path()); ++p) {
        limit_kernel_path(static_cast<KernelPath>(p));
        body(std::string(" [") + kernel_path_name(static_cast<KernelPath>(p)) + "]");
    }
    limit_kernel_path(KernelPath::Avx512Vnni);
}

TEST(QuantMatrix, KernelsMatchTheDequantizedWeights) {
    for (auto s : {Scheme::F16, Scheme::BF16, Scheme::Int8}) {
        for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{37, 72},
                                  {64, 128},
                                  {9, 8},
                                  {20, 2100},
                                  {33, 4500}}) {
            const auto w = random_matrix(rows, cols, 4);
            auto q = quantize(w.data(), rows, cols, s);
            std::unique_ptr<Matrix> m;
            if (s == Scheme::Int8)
                m = make_int8_matrix(q.q.data(), q.scales.data(), rows, cols);
            else if (s == Scheme::F16)
                m = make_f16_matrix(q.half.data(), rows, cols);
            else
                m = make_bf16_matrix(q.half.data(), rows, cols);
            for_each_kernel_path([&](const std::string& path) {
                expect_kernel_matches(*m, q,
                                      std::string(scheme_traits(s).name) + " " +
                                          std::to_string(rows) + "x" + std::to_string(cols) + path);
            });
        }
    }
}

TEST(QuantMatrix, FourBitKernelsMatchTheDequantizedWeights) {
    for (auto [s, sym] :
         {std::pair{Scheme::Int4, false}, {Scheme::Int4, true}, {Scheme::Nf4, false}})
        for (auto [rows, cols, group] :
             {std::tuple<std::int64_t, std::int64_t, std::int64_t>{37, 72, 64},
              {64, 128, 32},
              {37, 72, 32},
              {9, 8, 64},
              {16, 256, 128},
              {21, 200, 128},
              {20, 288, 96},
              {24, 100, 48},
              {8, 40, 16}}) {
            const auto w = random_matrix(rows, cols, 8);
            auto q = quantize(w.data(), rows, cols, QuantSettings{s, group, sym});
            auto m = make_four_bit_matrix(q);
            for_each_kernel_path([&](const std::string& path) {
                expect_kernel_matches(*m, q,
                                      std::string(scheme_traits(s).name) +
                                          (sym ? " symmetric " : " ") + std::to_string(rows) + "x" +
                                          std::to_string(cols) + " g" + std::to_string(group) +
                                          path);
            });
        }
}

TEST(QuantMatrix, ZeroAndNonFiniteInputs) {
    const auto w = random_matrix(8, 64, 3);
    for (auto s : {Scheme::Int8, Scheme::Int4, Scheme::Nf4}) {
        auto q = quantize(w.data(), 8, 64, QuantSettings{s, 64, false});
        auto m = s == Scheme::Int8 ? make_int8_matrix(q.q.data(), q.scales.data(), 8, 64)
                                   : make_four_bit_matrix(q);
        for_each_kernel_path([&](const std::string& path) {
            std::vector<float> x(64, 0.0f), y(8, 1.0f);
            m->multiply(x.data(), 1, y.data(), 0, 8);
            for (float v : y) EXPECT_EQ(v, 0.0f) << scheme_traits(s).name << path;
            for (float bad : {NAN, INFINITY}) {
                x[3] = bad;
                m->multiply(x.data(), 1, y.data(), 0, 8);
                for (float v : y) EXPECT_TRUE(std::isnan(v)) << scheme_traits(s).name << path;
            }
        });
    }
}

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
    auto data = prepare_eval_data(Workspace::at(dir_.path()), dir_.path().string(),
                                  CorpusFormat::Auto, *tok, Split::Validation, CacheBuildOptions{},
                                  dir_.path() / "cache");
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
    const double ln_unc =
        std::sqrt((sample_cov(nll_a, nll_a) + sample_cov(nll_b, nll_b) -
                   2 * sample_cov(nll_a, nll_b)) / N);
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
