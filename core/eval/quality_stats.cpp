#include "eval/quality_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <vector>

#include "util/error.h"

namespace itera {
namespace {

constexpr double kZ95 = 1.959963984540054;

// Linear interpolation between order statistics (numpy's default).
double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    const double at = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(at));
    const auto hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (at - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

Percentiles percentiles(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    Percentiles p;
    p.min = v.front();
    p.p1 = percentile(v, 0.01);
    p.p5 = percentile(v, 0.05);
    p.p10 = percentile(v, 0.10);
    p.p25 = percentile(v, 0.25);
    p.median = percentile(v, 0.50);
    p.p75 = percentile(v, 0.75);
    p.p90 = percentile(v, 0.90);
    p.p95 = percentile(v, 0.95);
    p.p99 = percentile(v, 0.99);
    p.p999 = percentile(v, 0.999);
    p.max = v.back();
    return p;
}

// Mean and its standard error.
std::pair<double, double> mean_unc(const std::vector<double>& v) {
    const double n = static_cast<double>(v.size());
    double sum = 0, sum2 = 0;
    for (double x : v) {
        sum += x;
        sum2 += x * x;
    }
    const double mean = sum / n;
    const double var = n > 1 ? std::max(0.0, (sum2 / n - mean * mean) * n / (n - 1)) : 0.0;
    return {mean, std::sqrt(var / n)};
}

}  // namespace

QualityStats quality_statistics(const TokenComparison& t) {
    const auto n = t.kld.size();
    if (n < 2 || t.nll_reference.size() != n || t.nll_candidate.size() != n ||
        t.p_reference.size() != n || t.p_candidate.size() != n || t.same_top.size() != n)
        throw Error("quality statistics: need the per-token figures of at least 2 positions");
    QualityStats s;
    s.tokens = static_cast<std::int64_t>(n);
    const double N = static_cast<double>(n);
    // ln PPL = mean NLL; the ratio's variance is var(a) + var(b) − 2 cov(a, b),
    // all of the means (the two models' losses move together token by token).
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double a = t.nll_reference[i], b = t.nll_candidate[i];
        sa += a;
        sb += b;
        saa += a * a;
        sbb += b * b;
        sab += a * b;
    }
    const double ma = sa / N, mb = sb / N;
    const double var_a = std::max(0.0, saa / N - ma * ma) / (N - 1);
    const double var_b = std::max(0.0, sbb / N - mb * mb) / (N - 1);
    const double cov = (sab / N - ma * mb) / (N - 1);
    s.ppl_base = std::exp(ma);
    s.ppl = std::exp(mb);
    s.ln_ppl_ratio = mb - ma;
    s.ln_ppl_ratio_unc = std::sqrt(std::max(0.0, var_a + var_b - 2 * cov));

    std::vector<double> kld(t.kld.begin(), t.kld.end());
    std::tie(s.kld_mean, s.kld_unc) = mean_unc(kld);
    s.kld = percentiles(kld);

    std::vector<double> dp(n);
    double sq = 0;
    for (std::size_t i = 0; i < n; ++i) {
        dp[i] = static_cast<double>(t.p_candidate[i]) - t.p_reference[i];
        sq += dp[i] * dp[i];
    }
    std::tie(s.dp_mean, s.dp_unc) = mean_unc(dp);
    s.dp_rms = std::sqrt(sq / N);
    s.dp = percentiles(dp);

    double same = 0;
    for (auto x : t.same_top) same += x;
    s.same_top = same / N;
    s.same_top_unc = std::sqrt(s.same_top * (1 - s.same_top) / (N - 1));
    return s;
}

double QualityStats::delta_ppl_pct() const {
    return 100.0 * std::expm1(ln_ppl_ratio);
}
double QualityStats::delta_ppl_pct_low() const {
    return 100.0 * std::expm1(ln_ppl_ratio - kZ95 * ln_ppl_ratio_unc);
}
double QualityStats::delta_ppl_pct_high() const {
    return 100.0 * std::expm1(ln_ppl_ratio + kZ95 * ln_ppl_ratio_unc);
}
bool QualityStats::delta_ppl_within_noise() const {
    return delta_ppl_pct_low() <= 0 && delta_ppl_pct_high() >= 0;
}

std::string delta_ppl_text(const QualityStats& s, int decimals) {
    char buf[128];
    if (s.delta_ppl_within_noise())
        std::snprintf(buf, sizeof buf, "within noise (%+.*f %% … %+.*f %%)", decimals,
                      s.delta_ppl_pct_low(), decimals, s.delta_ppl_pct_high());
    else
        std::snprintf(buf, sizeof buf, "%+.*f %% ± %.*f", decimals, s.delta_ppl_pct(), decimals,
                      100.0 * std::exp(s.ln_ppl_ratio) * kZ95 * s.ln_ppl_ratio_unc);
    return buf;
}

}  // namespace itera
