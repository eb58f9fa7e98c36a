// The statistics of a comparison (eval/quality_stats.h) against slow, obvious
// references: two-pass means, variances and covariance in long double,
// percentiles by their definition, and the paired speed ratio's median.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "eval/quality_stats.h"
#include "infer/paired_timing.h"
#include "util/error.h"

namespace itera {
namespace {

using Real = long double;

Real mean_of(const std::vector<Real>& v) {
    Real s = 0;
    for (Real x : v) s += x;
    return s / static_cast<Real>(v.size());
}

// Sample covariance, two passes.
Real covariance(const std::vector<Real>& a, const std::vector<Real>& b) {
    const Real ma = mean_of(a), mb = mean_of(b);
    Real s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - ma) * (b[i] - mb);
    return s / static_cast<Real>(a.size() - 1);
}

// A compressed model's per-token figures: the candidate's loss follows the
// reference's with a shift and some noise of its own.
TokenComparison synthetic(std::size_t n, double shift, double noise, unsigned seed) {
    std::mt19937 rng(seed);
    std::gamma_distribution<float> loss(2.0f, 1.5f);
    std::normal_distribution<float> jitter(0.0f, static_cast<float>(noise));
    std::exponential_distribution<float> kld(200.0f);
    std::bernoulli_distribution same(0.93);
    TokenComparison t;
    for (std::size_t i = 0; i < n; ++i) {
        const float a = loss(rng);
        const float b = std::max(0.0f, a + static_cast<float>(shift) + jitter(rng));
        t.nll_reference.push_back(a);
        t.nll_candidate.push_back(b);
        t.p_reference.push_back(std::exp(-a));
        t.p_candidate.push_back(std::exp(-b));
        t.kld.push_back(kld(rng));
        t.same_top.push_back(same(rng) ? 1 : 0);
    }
    return t;
}

TEST(QualityStats, MatchTwoPassReferencesInLongDouble) {
    const auto t = synthetic(20000, 0.004, 0.05, 7);
    const auto s = quality_statistics(t);
    const std::vector<Real> a(t.nll_reference.begin(), t.nll_reference.end());
    const std::vector<Real> b(t.nll_candidate.begin(), t.nll_candidate.end());
    const Real n = static_cast<Real>(a.size());
    const Real ma = mean_of(a), mb = mean_of(b);
    // var(mean b − mean a) = (var a + var b − 2 cov(a, b)) / n
    const Real unc = std::sqrt((covariance(a, a) + covariance(b, b) - 2 * covariance(a, b)) / n);
    // Tolerance: relative 1e-9, far below any figure we print, far above
    // the one-pass sums' rounding in double at n = 20,000.
    EXPECT_NEAR(s.ppl_base, static_cast<double>(std::exp(ma)), 1e-9 * s.ppl_base);
    EXPECT_NEAR(s.ppl, static_cast<double>(std::exp(mb)), 1e-9 * s.ppl);
    EXPECT_NEAR(s.ln_ppl_ratio, static_cast<double>(mb - ma), 1e-9);
    EXPECT_NEAR(s.ln_ppl_ratio_unc, static_cast<double>(unc), 1e-9 * static_cast<double>(unc));

    const std::vector<Real> k(t.kld.begin(), t.kld.end());
    EXPECT_NEAR(s.kld_mean, static_cast<double>(mean_of(k)), 1e-12);
    EXPECT_NEAR(s.kld_unc, static_cast<double>(std::sqrt(covariance(k, k) / n)), 1e-12);

    std::vector<Real> dp(a.size());
    Real sq = 0;
    for (std::size_t i = 0; i < dp.size(); ++i) {
        dp[i] = static_cast<Real>(t.p_candidate[i]) - t.p_reference[i];
        sq += dp[i] * dp[i];
    }
    EXPECT_NEAR(s.dp_mean, static_cast<double>(mean_of(dp)), 1e-12);
    EXPECT_NEAR(s.dp_unc, static_cast<double>(std::sqrt(covariance(dp, dp) / n)), 1e-12);
    EXPECT_NEAR(s.dp_rms, static_cast<double>(std::sqrt(sq / n)), 1e-12);

    Real same = 0;
    for (auto x : t.same_top) same += x;
    const Real f = same / n;
    EXPECT_NEAR(s.same_top, static_cast<double>(f), 1e-12);
    EXPECT_NEAR(s.same_top_unc, static_cast<double>(std::sqrt(f * (1 - f) / (n - 1))), 1e-12);
    EXPECT_EQ(s.tokens, 20000);
}

TEST(QualityStats, PercentilesInterpolateBetweenOrderStatistics) {
    // KLD values 0, 1, ..., 1000 shuffled: the q-th percentile is exactly 1000 q.
    TokenComparison t;
    std::vector<float> v(1001);
    for (int i = 0; i <= 1000; ++i) v[i] = static_cast<float>(i);
    std::shuffle(v.begin(), v.end(), std::mt19937(3));
    for (float x : v) {
        t.kld.push_back(x);
        t.nll_reference.push_back(1);
        t.nll_candidate.push_back(1);
        t.p_reference.push_back(0.5f);
        t.p_candidate.push_back(0.5f);
        t.same_top.push_back(1);
    }
    const auto s = quality_statistics(t);
    EXPECT_DOUBLE_EQ(s.kld.min, 0);
    EXPECT_DOUBLE_EQ(s.kld.p1, 10);
    EXPECT_DOUBLE_EQ(s.kld.p5, 50);
    EXPECT_DOUBLE_EQ(s.kld.p25, 250);
    EXPECT_DOUBLE_EQ(s.kld.median, 500);
    EXPECT_DOUBLE_EQ(s.kld.p99, 990);
    EXPECT_DOUBLE_EQ(s.kld.p999, 999);
    EXPECT_DOUBLE_EQ(s.kld.max, 1000);
    // Between two order statistics: values 0 and 10, the 25th percentile is 2.5.
    TokenComparison two = t;
    for (auto* f :
         {&two.kld, &two.nll_reference, &two.nll_candidate, &two.p_reference, &two.p_candidate})
        f->resize(2);
    two.same_top.resize(2);
    two.kld = {10, 0};
    EXPECT_DOUBLE_EQ(quality_statistics(two).kld.p25, 2.5);
}

TEST(QualityStats, AModelAgainstItselfChangesNothing) {
    auto t = synthetic(500, 0, 0, 1);
    for (auto& k : t.kld) k = 0;
    for (auto& x : t.same_top) x = 1;
    const auto s = quality_statistics(t);
    EXPECT_EQ(s.ln_ppl_ratio, 0);
    EXPECT_EQ(s.ln_ppl_ratio_unc, 0);
    EXPECT_EQ(s.delta_ppl_pct(), 0);
    EXPECT_TRUE(s.delta_ppl_within_noise());
    EXPECT_EQ(s.kld_mean, 0);
    EXPECT_EQ(s.same_top, 1);
    EXPECT_EQ(s.same_top_unc, 0);
}

TEST(QualityStats, ASmallSystematicShiftIsResolvedAndNoiseAloneIsNot) {
    // The candidate's losses move with the reference's: a shift of 0.01 nats
    // is many standard errors of the paired difference, though far smaller
    // than the spread of either loss.
    const auto shifted = quality_statistics(synthetic(4000, 0.01, 0.02, 11));
    EXPECT_FALSE(shifted.delta_ppl_within_noise()) << delta_ppl_text(shifted);
    EXPECT_NEAR(shifted.delta_ppl_pct(), 100 * std::expm1(shifted.ln_ppl_ratio), 1e-12);
    EXPECT_GT(shifted.delta_ppl_pct_low(), 0);
    EXPECT_NE(delta_ppl_text(shifted).find("±"), std::string::npos);

    const auto noise = quality_statistics(synthetic(4000, 0, 0.02, 11));
    EXPECT_TRUE(noise.delta_ppl_within_noise()) << delta_ppl_text(noise);
    EXPECT_LT(noise.delta_ppl_pct_low(), 0);
    EXPECT_GT(noise.delta_ppl_pct_high(), 0);
    EXPECT_EQ(delta_ppl_text(noise).rfind("within noise", 0), 0u) << delta_ppl_text(noise);
}

TEST(QualityStats, TooFewOrMismatchedPositionsAreRefused) {
    auto t = synthetic(1, 0, 0, 1);
    EXPECT_THROW(quality_statistics(t), Error);
    t = synthetic(10, 0, 0, 1);
    t.kld.pop_back();
    EXPECT_THROW(quality_statistics(t), Error);
}

TEST(PairedRate, TheRatioIsTheMedianOfThePairRatios) {
    PairedRate r;
    // The machine slows down over the run; each pair's ratio stays near 2.
    r.a = {100, 80, 60, 50, 40};
    r.b = {200, 170, 110, 100, 84};
    r.summarise();
    EXPECT_DOUBLE_EQ(r.a_median, 60);
    EXPECT_DOUBLE_EQ(r.b_median, 110);
    std::vector<double> ratios;
    for (std::size_t i = 0; i < r.a.size(); ++i) ratios.push_back(r.b[i] / r.a[i]);
    std::sort(ratios.begin(), ratios.end());
    EXPECT_DOUBLE_EQ(r.ratio_median, ratios[2]);
    EXPECT_DOUBLE_EQ(r.ratio_min, ratios.front());
    EXPECT_DOUBLE_EQ(r.ratio_max, ratios.back());
    // The ratio of medians is another figure, and not the one reported.
    EXPECT_NE(r.ratio_median, r.b_median / r.a_median);
}

}  // namespace
}  // namespace itera
