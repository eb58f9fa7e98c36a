// Mixed precision: the tensor groups, files with a scheme per tensor, the
// greedy planner on a hand-made sweep (every choice checked against the
// cheapest loss per byte), and a real sweep of a micro model that is stored
// and reused.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "compress/mixed.h"
#include "format/safetensors.h"
#include "infer/inference_model.h"
#include "model/checkpoint.h"
#include "model/itera_model.h"
#include "model/tensor_names.h"
#include "store/run_store.h"
#include "temp_dir.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "workflows/compression.h"

namespace itera {
namespace {

TEST(Mixed, GroupsFollowTheSpecsTensors) {
    const auto config = ModelConfig::preset("micro", 259);
    const auto groups = tensor_groups(config);
    std::vector<std::string> names;
    std::int64_t weights = 0, compressible_weights = 0;
    for (const auto& g : groups) {
        names.push_back(g.name);
        weights += g.weights;
    }
    for (const auto& s : spec_tensors(config))
        if (compressible(s.name, s.shape)) compressible_weights += s.shape[0] * s.shape[1];
    EXPECT_EQ(weights, compressible_weights);  // every compressible tensor in exactly one group
    EXPECT_EQ(names.front(), "embed");
    auto has = [&](const std::string& n) {
        return std::find(names.begin(), names.end(), n) != names.end();
    };
    EXPECT_TRUE(has("layers.0.mixer.in_proj"));
    EXPECT_TRUE(has("layers.0.mixer.dt_proj"));
    EXPECT_TRUE(has("layers.0.ffn"));  // dense: w1 and w2 together
    const int moe = static_cast<int>(config.moe_layers.front());
    EXPECT_TRUE(has("layers." + std::to_string(moe) + ".ffn.router"));
    EXPECT_TRUE(has("layers." + std::to_string(moe) + ".ffn.experts.3"));
    for (const auto& g : groups)
        if (g.name.find(".experts.") != std::string::npos) {
            EXPECT_EQ(g.tensors.size(), 2u);
        }
}

/// A sweep where int8 costs 0.01 nats of KLD (and loss) per group and int4 a
/// group-specific amount.
SensitivitySweep synthetic_sweep(const ModelConfig& config) {
    SensitivitySweep s;
    int i = 0;
    for (const auto& g : tensor_groups(config)) {
        const std::int64_t fp32 = g.weights * 4;
        s.entries.push_back({g.name, {Scheme::Int8, 64, false}, fp32 / 4 + 64, fp32, 0.01, 0.01});
        const double int4 = 0.02 + 0.05 * (i++ % 3);
        s.entries.push_back({g.name, {Scheme::Int4, 64, false}, fp32 / 8 + 64, fp32, int4, int4});
    }
    return s;
}

TEST(Mixed, PlannerMeetsTheTargetWithTheCheapestLossPerByte) {
    const auto config = ModelConfig::preset("micro", 259);
    const auto sweep = synthetic_sweep(config);
    std::int64_t fp32 = 0;
    for (const auto& g : tensor_groups(config)) fp32 += g.weights * 4;
    const std::int64_t fixed = 10000, file = fp32 + fixed;
    // Half the weights' FP32 size: int8 everywhere (0.25) meets it; the planner
    // must not pay for int4 where int8 suffices.
    const auto plan = plan_mixed(sweep, config, file, MixedTarget{fixed + fp32 / 2, {}, {}});
    EXPECT_LE(plan.predicted_bytes, fixed + fp32 / 2);
    double sum = 0, kld = 0;
    for (const auto& c : plan.choices) {
        sum += c.delta_loss;
        kld += c.kld;
        EXPECT_NE(c.settings.scheme, Scheme::Int4) << c.group << ": int8 meets the target";
    }
    EXPECT_NEAR(plan.predicted_delta_loss, sum, 1e-12);
    EXPECT_NEAR(plan.predicted_kld, kld, 1e-12);
    // A tighter target takes int4 first where it costs least (the 0.02 groups).
    const auto tight = plan_mixed(sweep, config, file, MixedTarget{fixed + fp32 / 5, {}, {}});
    EXPECT_LE(tight.predicted_bytes, fixed + fp32 / 5);
    for (const auto& c : tight.choices)
        if (c.settings.scheme == Scheme::Int4) {
            EXPECT_LT(c.kld, 0.12) << c.group;
        }
    EXPECT_GT(tight.predicted_kld, plan.predicted_kld);
    // Every tensor of the plan is in the options, with its group's scheme.
    for (const auto& g : tensor_groups(config))
        for (const auto& t : g.tensors) EXPECT_TRUE(tight.options.per_tensor.count(t)) << t;
    // Bits per weight: 8.x bits per weight means int8 (scales included) nearly everywhere.
    const auto bpw = plan_mixed(sweep, config, file, MixedTarget{{}, 9.0, {}});
    std::int64_t bytes = 0, weights = 0;
    for (const auto& g : tensor_groups(config)) weights += g.weights;
    for (const auto& c : bpw.choices) bytes += c.bytes;
    EXPECT_LE(8.0 * double(bytes) / double(weights), 9.0);
    // No single upgrade is left that fits the budget and lowers the predicted loss.
    {
        std::int64_t used = 0;
        for (const auto& c : tight.choices) used += c.bytes;
        const std::int64_t budget = fp32 / 5;
        for (const auto& c : tight.choices)
            for (const auto& e : sweep.entries)
                if (e.group == c.group && e.bytes > c.bytes && e.kld < c.kld) {
                    EXPECT_GT(used + e.bytes - c.bytes, budget) << c.group << " could be upgraded";
                }
    }
    // Unreachable: below all-int4.
    try {
        plan_mixed(sweep, config, file, MixedTarget{fixed + fp32 / 20, {}, {}});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("smallest plan"), std::string::npos) << e.what();
    }
    // A KLD bound: the smallest plan under it, and no further step stays under it.
    const auto bound = plan_mixed(sweep, config, file, MixedTarget{{}, {}, 0.05});
    EXPECT_LE(bound.predicted_kld, 0.05 + 1e-12);
    EXPECT_LT(bound.predicted_bytes, file);
    for (const auto& c : bound.choices)
        for (const auto& e : sweep.entries)
            if (e.group == c.group && e.bytes < c.bytes) {
                EXPECT_GT(bound.predicted_kld + e.kld - c.kld, 0.05) << c.group << " could shrink";
            }
    EXPECT_THROW(plan_mixed(sweep, config, file, MixedTarget{{}, {}, 0.0}), Error);
    EXPECT_THROW(plan_mixed(sweep, config, file, MixedTarget{}), Error);
    EXPECT_THROW(plan_mixed(sweep, config, file, MixedTarget{fixed + fp32, 4.0, {}}), Error);
}

TEST(Mixed, ParsesSizes) {
    EXPECT_EQ(parse_size("2MB"), 2000000);
    EXPECT_EQ(parse_size("1.5mb"), 1500000);
    EXPECT_EQ(parse_size("900KB"), 900000);
    EXPECT_EQ(parse_size("123456"), 123456);
    for (const char* bad : {"", "MB", "-1MB", "2 parsecs", "0"})
        EXPECT_THROW(parse_size(bad), Error) << bad;
}

class MixedCheckpoint : public ::testing::Test {
protected:
    void SetUp() override {
        config_ = ModelConfig::preset("micro", 259);
        IteraModel m(config_);
        m->initialize(11);
        source_ = dir_.path() / "fp32.safetensors";
        save_checkpoint(m, make_byte_tokenizer()->serialize(), source_, {{"run_id", "42"}});
        std::string text;
        for (int i = 0; i < 60; ++i)
            text += "call me ishmael, some years ago " + std::to_string(i) + ".\n\n";
        std::ofstream(dir_.path() / "wiki.train.raw") << " = A = \n" << text;
        std::ofstream(dir_.path() / "wiki.valid.raw") << " = B = \n" << text;
    }
    testing::TempDir dir_;
    ModelConfig config_;
    std::filesystem::path source_;
};

TEST_F(MixedCheckpoint, FilesHoldASchemePerTensorAndLoad) {
    CompressOptions o;
    o.scheme = Scheme::F32;
    o.per_tensor["embed.weight"] = {Scheme::Int8, 64, false};
    o.per_tensor["layers.0.mixer.in_proj.weight"] = {Scheme::Int4, 32, false};
    o.per_tensor["layers.0.mixer.out_proj.weight"] = {Scheme::F16, 64, false};
    const auto out = dir_.path() / "mixed.safetensors";
    const auto r = compress_checkpoint(source_, o, out);
    std::map<std::string, std::string> schemes;
    for (const auto& t : r.tensors) schemes[t.name] = t.scheme;
    EXPECT_EQ(schemes["embed.weight"], "int8");
    EXPECT_EQ(schemes["layers.0.mixer.in_proj.weight"], "int4");
    EXPECT_EQ(schemes["layers.0.mixer.out_proj.weight"], "f16");
    EXPECT_EQ(schemes["layers.0.mixer.x_proj.weight"], "f32");
    const auto file = SafetensorsFile::read(out);
    const auto quant = nlohmann::json::parse(file.meta("quantization"));
    EXPECT_EQ(quant["method"], "mixed");
    EXPECT_EQ(quant["tensors"]["layers.0.mixer.in_proj.weight"]["group_size"], 32);
    EXPECT_TRUE(file.find("embed.weight.qweight"));
    EXPECT_TRUE(file.find("layers.0.mixer.x_proj.weight"));
    const auto model = InferenceModel::load(out);
    EXPECT_TRUE(model->compressed());
    EXPECT_EQ(model->log_probs({1, 2, 3}).size(), 3u * 259u);

    CompressOptions bad;
    bad.scheme = Scheme::F32;
    bad.per_tensor["layers.9.mixer.in_proj.weight"] = {Scheme::Int8, 64, false};
    EXPECT_THROW(compress_checkpoint(source_, bad, dir_.path() / "bad.safetensors"), Error);
    CompressOptions f32;
    f32.scheme = Scheme::F32;  // no plan: f32 is the source format
    EXPECT_THROW(compress_checkpoint(source_, f32, dir_.path() / "b.st"), Error);
}

TEST_F(MixedCheckpoint, SweepMeasuresEveryGroupStoresItAndIsReused) {
    SweepSettings o;
    o.candidates = {{Scheme::Int8, 64, false}, {Scheme::Int4, 32, false}};
    o.calibration_tokens = 512;
    const auto data = dir_.path().string();
    const auto ws = Workspace::at(dir_.path());
    o.threads = 2;
    const auto sweep = sweep_sensitivity(ws, source_, o, data);
    const auto groups = tensor_groups(config_);
    ASSERT_EQ(sweep.entries.size(), groups.size() * 2);
    EXPECT_GE(sweep.tokens, 256);
    double int8_loss = 0, int4_loss = 0;
    for (const auto& e : sweep.entries) {
        EXPECT_GE(e.kld, -1e-6) << e.group;  // float rounding of a near-zero mean
        EXPECT_LT(e.bytes, e.source_bytes) << e.group;
        (e.settings.scheme == Scheme::Int8 ? int8_loss : int4_loss) += std::abs(e.delta_loss);
    }
    // 4-bit costs more than 8-bit in total (random weights, but many groups).
    EXPECT_GT(int4_loss, int8_loss);
    std::printf("sweep: %zu measurements on %lld tokens, sum |dloss| int8 %.2e, int4 %.2e\n",
                sweep.entries.size(), static_cast<long long>(sweep.tokens), int8_loss, int4_loss);
    {
        RunStore store(ws.db_path);
        const auto again = sweep_sensitivity(ws, source_, o, data);  // reused: same numbers
        ASSERT_EQ(again.entries.size(), sweep.entries.size());
        EXPECT_EQ(again.entries[3].delta_loss, sweep.entries[3].delta_loss);
    }
    // A plan from it builds a file near the predicted size.
    const auto file_bytes = static_cast<std::int64_t>(std::filesystem::file_size(source_));
    const auto plan = plan_mixed(sweep, config_, file_bytes, MixedTarget{file_bytes / 3, {}, {}});
    const auto out = dir_.path() / "planned.safetensors";
    const auto r = compress_checkpoint(source_, plan.options, out);
    // The planner counts tensor bytes; the header grows by a few hundred bytes per
    // quantized tensor (names, quantization entries): within 5 % on this tiny model.
    EXPECT_NEAR(double(r.bytes), double(plan.predicted_bytes), 0.05 * double(plan.predicted_bytes));
    // Checked against the written file, the plan meets the target.
    const auto checked = plan_mixed_for_file(sweep, source_, MixedTarget{file_bytes / 3, {}, {}});
    EXPECT_LE(checked.file_bytes, file_bytes / 3);
    EXPECT_EQ(static_cast<std::int64_t>(compress_checkpoint(source_, checked.options, out).bytes),
              checked.file_bytes);
    const auto report = mixed_plan_report(plan, sweep, MixedTarget{file_bytes / 3, {}, {}});
    EXPECT_EQ(report.plan.size(), groups.size());
    EXPECT_EQ(report.target_bytes, file_bytes / 3);
    EXPECT_NEAR(report.predicted_delta_ppl_pct, 100 * std::expm1(plan.predicted_delta_loss), 1e-9);
    EXPECT_NEAR(report.predicted_kld, plan.predicted_kld, 1e-12);
}

TEST_F(MixedCheckpoint, WhereUniformInt8FitsTheWrittenModelIsNoLargerAndNoWorse) {
    // The target is uniform int8's own file size: int8 meets it, so whatever
    // is written (the plan or a uniform scheme) is no larger than int8 and
    // diverges no more from FP32 on the calibration text than int8 does.
    CompressOptions i8;
    i8.scheme = Scheme::Int8;
    const auto int8_bytes = static_cast<std::int64_t>(
        compress_checkpoint(source_, i8, dir_.path() / "int8.safetensors").bytes);
    SweepSettings sweep;
    sweep.candidates = {{Scheme::Int8, 64, false}, {Scheme::Int4, 64, false}};
    sweep.calibration_tokens = 512;
    sweep.max_calibration_tokens = 1024;
    sweep.threads = 2;
    MeasureRequest m;
    m.eval_data = dir_.path().string();
    m.max_tokens = 1024;
    m.threads = 2;
    const auto out = dir_.path() / "mixed.safetensors";
    const auto r = compress_mixed_and_measure(Workspace::at(dir_.path()), source_,
                                              MixedTarget{int8_bytes, {}, {}}, sweep,
                                              dir_.path().string(), out, m);
    EXPECT_LE(static_cast<std::int64_t>(std::filesystem::file_size(out)), int8_bytes);
    ASSERT_TRUE(r.report.mixed.has_value());
    const auto& plan = *r.report.mixed;
    const MixedPlanReport::Candidate *chosen = nullptr, *int8 = nullptr;
    for (const auto& c : plan.candidates) {
        if (c.name == plan.chosen) chosen = &c;
        if (c.name == "int8") int8 = &c;
    }
    ASSERT_NE(chosen, nullptr) << plan.chosen;
    ASSERT_NE(int8, nullptr);
    EXPECT_TRUE(int8->meets_target);
    EXPECT_TRUE(chosen->meets_target);
    EXPECT_LE(chosen->bytes, int8_bytes);
    EXPECT_LE(chosen->kld, int8->kld);
    EXPECT_FALSE(plan.reason.empty());
    std::printf("target %lld bytes: chose %s (%lld bytes, KLD %.3e) over int8 (KLD %.3e)\n",
                static_cast<long long>(int8_bytes), plan.chosen.c_str(),
                static_cast<long long>(chosen->bytes), chosen->kld, int8->kld);
}

}  // namespace
}  // namespace itera
