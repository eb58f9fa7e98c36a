// The fused AdamW against LibTorch's AdamW + clip_grad_norm_ as the reference.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/optimizer.h"

namespace itera {
namespace {

TEST(AdamW, MatchesLibTorchWithDecayGroupsAndClipping) {
    auto c = ModelConfig::preset("micro", 50);
    IteraModel ours(c), ref(c);
    ours->initialize(3);
    ref->initialize(3);
    AdamWSettings s;
    s.lr = 3e-3;
    s.weight_decay = 0.2;
    AdamW opt(ours, s);
    std::vector<torch::Tensor> decay, no_decay;
    for (const auto& [name, p] : ref->spec_parameters())
        (receives_weight_decay(name) ? decay : no_decay).push_back(p);
    auto o = [&](double wd) {
        return std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(s.lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(wd));
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, o(s.weight_decay));
    groups.emplace_back(no_decay, o(0.0));
    torch::optim::AdamW ref_opt(groups, torch::optim::AdamWOptions(s.lr));

    torch::manual_seed(4);
    for (int step = 0; step < 4; ++step) {
        auto tokens = torch::randint(50, {2, 12}, torch::kLong);
        opt.zero_grad();
        ref_opt.zero_grad();
        ours->loss(tokens).loss.backward();
        ref->loss(tokens).loss.backward();
        const double max_norm = step % 2 ? 0.05 : 100.0;  // clip on odd steps only
        double norm = opt.step(s.lr, max_norm);
        double ref_norm = torch::nn::utils::clip_grad_norm_(ref->parameters(), max_norm);
        EXPECT_NEAR(norm, ref_norm, 1e-5 * ref_norm) << "step " << step;
        ref_opt.step();
    }
    auto a = ours->spec_parameters(), b = ref->spec_parameters();
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, (a[i].second - b[i].second).abs().max().item<double>());
    std::printf("AdamW after 4 steps: max |ours - libtorch| = %.3e\n", worst);
    EXPECT_LT(worst, 2e-6);
    EXPECT_EQ(opt.steps_taken(), 4);
}

TEST(AdamW, DecayExclusions) {
    EXPECT_TRUE(receives_weight_decay("layers.0.mixer.in_proj.weight"));
    EXPECT_TRUE(receives_weight_decay("embed.weight"));
    EXPECT_TRUE(receives_weight_decay("layers.1.ffn.experts.0.w1.weight"));
    EXPECT_FALSE(receives_weight_decay("layers.0.mixer.norm.weight"));
    EXPECT_FALSE(receives_weight_decay("norm_f.weight"));
    EXPECT_FALSE(receives_weight_decay("layers.0.mixer.dt_proj.bias"));
    EXPECT_FALSE(receives_weight_decay("layers.2.mixer.A_log"));
    EXPECT_FALSE(receives_weight_decay("layers.2.mixer.D"));
}

TEST(AdamW, NonFiniteGradientSkipsTheUpdate) {
    auto c = ModelConfig::preset("micro", 30);
    IteraModel m(c);
    m->initialize(1);
    AdamW opt(m, {});
    auto before = m->embed->weight.clone();
    m->loss(torch::randint(30, {1, 5}, torch::kLong)).loss.backward();
    m->embed->weight.mutable_grad()[0][0] = std::nan("");
    EXPECT_FALSE(std::isfinite(opt.step(1e-3, 1.0)));
    EXPECT_TRUE(torch::equal(before, m->embed->weight));
    EXPECT_EQ(opt.steps_taken(), 0);
}

}  // namespace
}  // namespace itera
