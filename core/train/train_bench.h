#pragma once
// Throughput of one full training step (forward + backward + gradient clip +
// AdamW) on random tokens, with the time split into scan / GEMM / conv / rest.
// Used by `itera bench train`; prints nothing itself.

#include <cstdint>
#include <functional>

#include "model/config.h"
#include "train/collective.h"

namespace itera {

struct TrainBenchOptions {
    ModelConfig config;
    std::int64_t batch_size = 16;
    std::int64_t seq_len = 128;
    int steps = 20;
    int warmup_steps = 3;
    int threads = 0;  ///< 0 = all cores
    std::uint64_t seed = 0;
    bool bf16 = false;  ///< the step's products with BF16 inputs (TrainSettings::precision)
    /// Data-parallel: every rank runs its own batch and the gradients are
    /// summed across ranks each step, as `itera train --nproc` does.
    Collective* group = nullptr;
};

struct TrainBenchResult {
    int threads = 0;
    std::int64_t params = 0;
    std::int64_t tokens_per_step = 0;
    int steps = 0;
    double seconds = 0;              ///< measured steps only
    double tokens_per_s = 0;         ///< over all measured steps
    double median_tokens_per_s = 0;  ///< from the median step time (robust to a noisy host)
    double scan_s = 0, gemm_s = 0, conv_s = 0;  ///< inside `seconds`
    double attention_s = 0;  ///< the attention core (scores, softmax, weighted sum), both passes
    int world = 1;           ///< processes; tokens_per_* count all of them
    double allreduce_s = 0;  ///< inside `seconds`: summing gradients
    double final_loss = 0;
};

/// `progress(step, total)` is called after each measured step.
TrainBenchResult run_train_bench(const TrainBenchOptions& options,
                                 const std::function<void(int, int)>& progress = {});

}  // namespace itera
