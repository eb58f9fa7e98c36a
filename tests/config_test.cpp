#include <gtest/gtest.h>

#include <algorithm>

#include "error_of.h"
#include "model/config.h"
#include "model/tensor_names.h"
#include "util/error.h"

namespace itera {
namespace {

using testing::error_of;

TEST(Config, PresetsHaveTheSpecShapes) {
    auto q = ModelConfig::preset("quality", 4096);
    EXPECT_EQ(q.hidden_size, 128);
    EXPECT_EQ(q.num_layers, 4);
    EXPECT_EQ(q.ssm_state_size, 8);
    EXPECT_EQ(q.num_experts, 4);
    EXPECT_EQ(q.expert_size, 256);
    EXPECT_EQ(q.ssm_dt_rank, 8);
    EXPECT_EQ(q.moe_layers, (std::vector<std::int64_t>{1, 3}));
    auto m = ModelConfig::preset("medium", 10);
    EXPECT_EQ(m.hidden_size, 512);
    EXPECT_EQ(m.num_experts, 8);
    EXPECT_EQ(m.moe_layers, (std::vector<std::int64_t>{1, 3, 5, 7}));
    EXPECT_EQ(ModelConfig::preset("small", 10).ssm_state_size, 16);
    EXPECT_THROW(ModelConfig::preset("huge", 10), Error);
}

TEST(Config, ParameterCountMatchesTheSpecFormulas) {
    EXPECT_EQ(parameter_count(ModelConfig::preset("quality", 4096)), 1624320);
    // Active: MoE layers use 2 of 4 experts, each expert 2·256·128 weights.
    EXPECT_EQ(active_parameter_count(ModelConfig::preset("quality", 4096)),
              1624320 - 2 * 2 * 65536);
}

TEST(Config, JsonRoundTripKeepsEveryKey) {
    auto c = ModelConfig::preset("small", 5000);
    c.dropout = 0.1;
    c.moe_aux_loss_weight = 0.02;
    c.moe_layers = {0, 5};
    c.moe_layers_default = false;
    auto back = ModelConfig::from_json(c.to_json());
    EXPECT_EQ(back, c.resolved());
    EXPECT_EQ(back.moe_layers, (std::vector<std::int64_t>{0, 5}));
    EXPECT_DOUBLE_EQ(back.dropout, 0.1);
    for (const char* key :
         {"arch", "vocab_size", "hidden_size", "num_layers", "ssm_state_size", "ssm_expand",
          "ssm_conv_kernel", "ssm_dt_rank", "num_experts", "top_k_experts", "expert_size",
          "moe_layers", "moe_aux_loss_weight", "dropout", "norm_eps"})
        EXPECT_NE(c.to_json().find(std::string("\"") + key + "\""), std::string::npos) << key;
}

TEST(Config, MissingKeysTakeSpecDefaults) {
    auto c = ModelConfig::from_json(R"({"vocab_size": 300, "hidden_size": 40, "num_layers": 5})");
    EXPECT_EQ(c.ssm_dt_rank, 3);  // ceil(40 / 16)
    EXPECT_EQ(c.moe_layers, (std::vector<std::int64_t>{1, 3}));
    EXPECT_EQ(c.top_k_experts, 2);
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
}

TEST(Config, InvalidValuesNameTheField) {
    auto base = ModelConfig::preset("micro", 100);
    auto with = [&](auto edit) {
        auto c = base;
        edit(c);
        return error_of([&] { c.validate(); });
    };
    EXPECT_NE(with([](ModelConfig& c) { c.top_k_experts = 5; }).find("top_k_experts"),
              std::string::npos);
    EXPECT_NE(with([](ModelConfig& c) { c.hidden_size = 0; }).find("hidden_size"),
              std::string::npos);
    EXPECT_NE(with([](ModelConfig& c) { c.vocab_size = -3; }).find("vocab_size"),
              std::string::npos);
    EXPECT_NE(with([](ModelConfig& c) { c.dropout = 1.5; }).find("dropout"), std::string::npos);
    EXPECT_NE(with([](ModelConfig& c) {
                  c.moe_layers = {7};
                  c.moe_layers_default = false;
              }).find("moe_layers"),
              std::string::npos);
    EXPECT_NE(with([](ModelConfig& c) { c.hidden_size = 1 << 30; }).find("hidden_size"),
              std::string::npos);
    EXPECT_NE(with([](ModelConfig& c) {
                  c.hidden_size = 65536;
                  c.num_layers = 4000;
              }).find("billion"),
              std::string::npos);
    EXPECT_NE(error_of([] {
                  ModelConfig::from_json(R"({"vocab_size": 10, "hiden_size": 3})");
              }).find("hiden_size"),
              std::string::npos);
    EXPECT_NE(error_of([] { ModelConfig::from_json("{not json"); }).find("JSON"),
              std::string::npos);
    EXPECT_NE(error_of([] { ModelConfig::from_json(R"({"hidden_size": 8})"); }).find("vocab_size"),
              std::string::npos);
    EXPECT_NE(
        error_of([] { ModelConfig::from_json(R"({"vocab_size": "big"})"); }).find("vocab_size"),
        std::string::npos);
}

}  // namespace
}  // namespace itera

namespace itera {
namespace {

// is_moe_layer answers as resolved() lists the MoE layers, default or explicit,
// for deep models too (it no longer copies the config per call).
TEST(ModelConfig, IsMoeLayerAgreesWithTheResolvedList) {
    for (const std::int64_t layers : {1, 2, 7, 4095}) {
        ModelConfig c;
        c.vocab_size = 16;
        c.num_layers = layers;
        const auto r = c.resolved();
        for (std::int64_t l = -1; l <= layers; ++l)
            EXPECT_EQ(c.is_moe_layer(l),
                      std::find(r.moe_layers.begin(), r.moe_layers.end(), l) != r.moe_layers.end())
                << layers << " layers, layer " << l;
    }
    ModelConfig c;
    c.num_layers = 6;
    c.moe_layers = {0, 5};
    c.moe_layers_default = false;
    EXPECT_TRUE(c.is_moe_layer(0));
    EXPECT_FALSE(c.is_moe_layer(1));
    EXPECT_TRUE(c.is_moe_layer(5));
}

}  // namespace
}  // namespace itera
