#pragma once
// How much a compressed model differs from its source, with the statistics
// llama.cpp's `perplexity --kl-divergence` reports, so small effects come
// with their uncertainty instead of being shown as facts: both perplexities,
// ln(PPL_q / PPL_base) with its standard error (from the per-token
// covariance of the two models' losses), the mean KL divergence with its
// standard error and its distribution, the change of the correct token's
// probability (Δp), and how often the most likely token is the same, with
// its binomial standard error.

#include <cstdint>
#include <string>

#include "eval/compare.h"

namespace itera {

/// Percentiles of a per-token quantity.
struct Percentiles {
    double min = 0, p1 = 0, p5 = 0, p10 = 0, p25 = 0, median = 0, p75 = 0, p90 = 0, p95 = 0,
           p99 = 0, p999 = 0, max = 0;
};

struct QualityStats {
    std::int64_t tokens = 0;
    double ppl_base = 0, ppl = 0;
    double ln_ppl_ratio = 0, ln_ppl_ratio_unc = 0;  ///< ln(PPL / PPL_base) ± standard error
    double kld_mean = 0, kld_unc = 0;               ///< nats per token
    Percentiles kld;
    double dp_mean = 0, dp_unc = 0, dp_rms = 0;  ///< p(correct) of the model minus the base's
    Percentiles dp;
    double same_top = 0, same_top_unc = 0;  ///< fraction of positions with the same argmax

    /// ΔPPL in percent and its 95 % interval (±1.96 standard errors).
    double delta_ppl_pct() const;
    double delta_ppl_pct_low() const;
    double delta_ppl_pct_high() const;
    /// True when the 95 % interval of ΔPPL contains 0: the change is within noise.
    bool delta_ppl_within_noise() const;
};

/// The statistics of a comparison made with per-token figures.
QualityStats quality_statistics(const TokenComparison& tokens);

/// "+0.42 % ± 0.10" or "within noise (−0.02 % … +0.03 %)".
std::string delta_ppl_text(const QualityStats& s, int decimals = 3);

}  // namespace itera
