#pragma once
// Comparing the speed of two models on a noisy machine: a ratio of two
// timings taken minutes apart measures the machine's mood as much as the
// models. Here the two are timed interleaved in one measurement — after a
// warm-up of each, pairs of runs (the order alternating: A B, B A, A B, ...)
// on the same prompt and thread count — and the speed ratio is the median of
// the per-pair ratios, reported with its min and max and both medians, so a
// report shows exactly the figures its ratio came from.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "infer/inference_model.h"

namespace itera {

/// One kind of run timed in pairs: tokens/s of A and B per pair, and B/A.
struct PairedRate {
    std::vector<double> a, b;  ///< tokens/s of each pair's runs
    double a_median = 0, b_median = 0;
    double ratio_median = 0, ratio_min = 0, ratio_max = 0;  ///< of b / a per pair
    /// Fills the medians and ratios from `a` and `b`.
    void summarise();
};

struct PairedTimingOptions {
    int pairs = 5;                     ///< pairs timed after the warm-up (at least 5)
    int threads = 1;                   ///< for both models
    std::int64_t decode_tokens = 512;  ///< per single-stream decode run
    std::int64_t prompt_tokens = 512;  ///< the prefilled prompt
    std::int64_t batch = 8;            ///< streams of the batched run (0: no batched run)
    std::int64_t batch_tokens = 128;   ///< tokens per stream of the batched run
    /// Called before each pair with (pair, pairs).
    std::function<void(int, int)> progress;
    /// Checked between runs; throw from it to stop (e.g. itera::Error("cancelled")).
    std::function<void()> check_cancel;
};

struct PairedTiming {
    PairedRate decode;   ///< single stream, `threads` threads
    PairedRate prefill;  ///< a `prompt_tokens` prompt
    PairedRate batched;  ///< `batch` streams (empty when batch is 0)
    PairedTimingOptions options;
};

/// Times `a` (the reference, e.g. the FP32 source) and `b` interleaved.
PairedTiming time_pair(const InferenceModel& a, const InferenceModel& b,
                       const PairedTimingOptions& options);

}  // namespace itera
