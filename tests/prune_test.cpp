// Structured pruning: valid target configs and clear errors, the calibration
// forward equal to the model's own loss, a model with an expert dropped equal
// to routing that never picks it, and units / channels that carry nothing
// removed without changing a single logit (to float tolerance).

#include <gtest/gtest.h>

#include <fstream>
#include <numeric>
#include <random>

#include "compress/prune.h"
#include "data/dataset.h"
#include "error_of.h"
#include "temp_dir.h"

namespace itera {
namespace {

using testing::error_of;
constexpr double kTol = 1e-5;  // float forward of the same arithmetic in another order

ModelConfig micro(std::int64_t vocab) {
    return ModelConfig::preset("micro", vocab);
}

IteraModel random_model(const ModelConfig& c, std::uint64_t seed) {
    IteraModel m(c);
    m->initialize(seed);
    m->eval();
    return m;
}

torch::Tensor random_sequences(std::int64_t vocab, std::int64_t b, std::int64_t t) {
    torch::manual_seed(7);
    return torch::randint(0, vocab, {b, t + 1}, torch::kLong);
}

TEST(PrunedConfig, ShrinksTheSharedDimensionsAndNamesImpossibleTargets) {
    const auto c = micro(300);  // E 4, k 2, F 128, expand 2
    PruneOptions o;
    o.experts = 3;
    o.ffn_keep = 0.75;
    o.channels_keep = 0.5;
    const auto p = pruned_config(c, o);
    EXPECT_EQ(p.num_experts, 3);
    EXPECT_EQ(p.expert_size, 96);
    EXPECT_EQ(p.ssm_expand, 1);
    EXPECT_EQ(p.inner_size(), 64);
    EXPECT_EQ(p.top_k_experts, 2);

    PruneOptions none;
    EXPECT_NE(error_of([&] { pruned_config(c, none); }).find("nothing to prune"),
              std::string::npos);
    PruneOptions few;
    few.experts = 1;
    EXPECT_NE(error_of([&] { pruned_config(c, few); }).find("top_k_experts (2"), std::string::npos);
    PruneOptions odd;
    odd.channels_keep = 0.75;
    const auto e = error_of([&] { pruned_config(c, odd); });
    EXPECT_NE(e.find("--channels-keep 0.75"), std::string::npos) << e;
    EXPECT_NE(e.find("0.5 (di 64)"), std::string::npos) << e;
    PruneOptions crit;
    crit.experts = 3;
    crit.expert_criterion = "random";
    EXPECT_NE(error_of([&] { pruned_config(c, crit); }).find("criterion"), std::string::npos);
}

TEST(Pruning, CalibrationForwardEqualsTheModelsLoss) {
    auto c = micro(97);
    auto model = random_model(c, 3);
    const auto seqs = random_sequences(97, 3, 20);
    torch::NoGradGuard no_grad;
    const double reference = model->loss(seqs).ce.item<double>();
    EXPECT_NEAR(loss_without_experts(model, seqs, {}), reference, kTol);
}

TEST(Pruning, DroppingAnExpertEqualsRoutingThatNeverPicksIt) {
    auto c = micro(97);
    auto model = random_model(c, 4);
    const auto seqs = random_sequences(97, 2, 24);
    PrunePlan plan;
    plan.before = c.resolved();
    PruneOptions o;
    o.experts = 3;
    plan.after = pruned_config(c, o);
    const auto di = c.inner_size(), F = c.expert_size;
    std::vector<std::int64_t> all_channels(di), all_units(F);
    std::iota(all_channels.begin(), all_channels.end(), 0);
    std::iota(all_units.begin(), all_units.end(), 0);
    for (std::int64_t i = 0; i < c.num_layers; ++i) {
        const auto layer = "layers." + std::to_string(i);
        plan.kept_units.emplace_back(layer + ".mixer", all_channels);
        if (c.is_moe_layer(i)) {
            plan.kept_units.emplace_back(layer + ".ffn.router", std::vector<std::int64_t>{0, 2, 3});
            for (int e : {0, 2, 3})
                plan.kept_units.emplace_back(layer + ".ffn.experts." + std::to_string(e),
                                             all_units);
        } else {
            plan.kept_units.emplace_back(layer + ".ffn", all_units);
        }
    }
    auto pruned = apply_pruning(model, plan);
    torch::NoGradGuard no_grad;
    const double expected = loss_without_experts(model, seqs, {{1, 1}});  // micro: MoE layer 1
    EXPECT_NEAR(pruned->loss(seqs).ce.item<double>(), expected, kTol);
    EXPECT_GT(std::abs(expected - model->loss(seqs).ce.item<double>()), 1e-4);  // it mattered
}

// A corpus for plan_pruning's calibration stream.
struct Corpus {
    testing::TempDir dir;
    std::shared_ptr<const TokenStream> train;
    std::int64_t vocab = 0;
    Corpus() {
        const auto text = dir.path() / "corpus";
        std::filesystem::create_directories(text);
        std::mt19937 rng(2);
        const char* words[] = {"call", "me", "ishmael", "some", "years", "ago", "never", "mind"};
        std::ofstream out(text / "a.txt");
        for (int w = 0; w < 3000; ++w) out << words[rng() % 8] << (w % 10 == 9 ? ".\n" : " ");
        out.close();
        auto prepared = prepare_dataset(Workspace::at(dir.path()),
                                        {text.string(), CorpusFormat::Text, TokenizerKind::Byte, 0},
                                        dir.path() / "dataset", {});
        vocab = prepared.tokenizer->vocab_size();
        train = TokenStream::open(dir.path() / "dataset", Split::Train);
    }
};

TEST(Pruning, RemovesUnitsAndChannelsThatCarryNothingWithoutChangingTheLogits) {
    Corpus corpus;
    auto c = micro(corpus.vocab);
    auto model = random_model(c, 5);
    const auto di = c.inner_size(), F = c.expert_size;
    {
        // Every odd channel and every unit >= F/2 feeds nothing downstream.
        torch::NoGradGuard no_grad;
        for (auto& block : model->layers) {
            auto& mixer = *block->mixer;
            for (std::int64_t ch = 1; ch < di; ch += 2) {
                mixer.out_proj->weight.select(1, ch).zero_();
                mixer.x_proj->weight.select(1, ch).zero_();
            }
            auto cut = [&](Weights& w2) { w2->weight.narrow(1, F / 2, F - F / 2).zero_(); };
            if (auto* moe = dynamic_cast<MoeFfn*>(block->ffn.get()))
                for (auto& e : moe->experts) cut(e->w2);
            else
                cut(dynamic_cast<DenseFfn&>(*block->ffn).w2);
        }
    }
    PruneOptions o;
    o.ffn_keep = 0.5;
    o.channels_keep = 0.5;
    o.calibration_tokens = 2048;
    o.seq_len = 64;
    const auto plan = plan_pruning(model, *corpus.train, o);
    EXPECT_EQ(plan.after.expert_size, F / 2);
    EXPECT_EQ(plan.after.inner_size(), di / 2);
    for (const auto& [key, share] : plan.channel_importance_kept)
        EXPECT_NEAR(share, 1.0, 1e-12) << key;
    for (const auto& [key, share] : plan.ffn_importance_kept) EXPECT_NEAR(share, 1.0, 1e-12) << key;
    EXPECT_GT(plan.calibration_tokens, 1500);

    auto pruned = apply_pruning(model, plan);
    torch::NoGradGuard no_grad;
    const auto seqs = random_sequences(corpus.vocab, 2, 30);
    auto inputs = seqs.narrow(1, 0, 30);
    auto a = model->forward(inputs).logits, b = pruned->forward(inputs).logits;
    EXPECT_LT((a - b).abs().max().item<double>(), kTol);
    std::int64_t params = 0;
    for (const auto& [name, t] : pruned->spec_parameters()) params += t.numel();
    std::int64_t before = 0;
    for (const auto& [name, t] : model->spec_parameters()) before += t.numel();
    EXPECT_LT(params, before);
}

TEST(Pruning, RanksExpertsByMeasuredSensitivityAndRecordsLoads) {
    Corpus corpus;
    auto c = micro(corpus.vocab);
    auto model = random_model(c, 6);
    PruneOptions o;
    o.experts = 2;
    o.calibration_tokens = 1024;
    o.seq_len = 64;
    const auto plan = plan_pruning(model, *corpus.train, o);
    ASSERT_EQ(plan.experts.size(), 4u);  // micro: one MoE layer of 4
    double load = 0;
    int kept = 0;
    for (const auto& e : plan.experts) {
        load += e.load;
        kept += e.kept;
        for (const auto& other : plan.experts)  // the kept are the ones that cost more to remove
            if (e.kept && !other.kept) {
                EXPECT_GE(e.delta_loss, other.delta_loss);
            }
    }
    EXPECT_NEAR(load, 1.0, 1e-9);
    EXPECT_EQ(kept, 2);
    EXPECT_NE(plan.to_json().find("\"delta_loss\""), std::string::npos);
}

}  // namespace
}  // namespace itera
