#pragma once
// Everything that defines a training run besides its data: the model, batch
// shape, length (steps, or minutes turned into steps once throughput is
// measured), optimiser and schedule, evaluation, checkpoints and seed. Stored
// as JSON with the run, so a run can be resumed or repeated exactly.

#include <cstdint>
#include <string>

#include "model/config.h"
#include "train/optimizer_settings.h"

namespace itera {

struct TrainSettings {
    ModelConfig model;
    std::string preset;  ///< informational: the preset `model` came from, if any

    std::int64_t batch_size = 16;
    std::int64_t seq_len = 128;
    std::int64_t grad_accum = 1;  ///< micro-batches of batch_size per optimiser step

    /// Length: `steps` > 0, or `minutes` > 0 (the trainer plans the step count
    /// from measured throughput, stores it in `steps`, then stops at the
    /// deadline at the latest).
    std::int64_t steps = 0;
    double minutes = 0;

    AdamWSettings adam;               ///< adam.lr is the peak learning rate
    double min_lr_ratio = 0.1;        ///< cosine decays to adam.lr · min_lr_ratio
    std::int64_t warmup_steps = 100;  ///< linear from 0 to the peak
    double max_grad_norm = 1.0;       ///< <= 0: no clipping

    std::int64_t eval_every = 200;        ///< steps between evaluations (and at the end)
    std::int64_t eval_tokens = 1 << 18;   ///< cap on validation tokens per evaluation
    std::int64_t checkpoint_every = 500;  ///< steps between `latest` checkpoints (and at the end)
    std::int64_t patience = 0;            ///< early stop after this many evaluations without
                                          ///< improvement (0: never)
    std::uint64_t seed = 0;               ///< model init, data order and dropout
    int threads = 0;                      ///< 0 = all cores
    /// "fp32", or "bf16": the training step's matrix products take BF16
    /// inputs (FP32 results, FP32 master weights, optimizer and everything
    /// else); evaluation stays FP32. Fast only on CPUs with AVX-512 BF16.
    std::string precision = "fp32";

    /// A checkpoint whose weights start the run instead of the seeded
    /// initialisation (a fine-tune); its config must equal `model`.
    std::string init_from;
    /// Distillation: a teacher checkpoint on the same tokenizer. The loss is
    /// distill_alpha · T² · KL(teacher_T ‖ student_T), the mean over target
    /// tokens, + (1 − distill_alpha) · CE (+ the MoE aux term), with
    /// T = distill_temperature; reported losses stay the plain CE.
    std::string teacher;
    double distill_alpha = 0.5;
    double distill_temperature = 2.0;

    /// Throws itera::Error naming the first invalid setting.
    void validate() const;
    std::string to_json() const;
    /// Unknown keys are an error; the model config is validated too.
    static TrainSettings from_json(const std::string& text);
};

/// Throws itera::Error unless `precision` is "fp32" or "bf16"; `what` names
/// it in the message (the JSON key, or the CLI option).
void check_precision(const std::string& precision, const std::string& what = "precision");

/// Where a re-planned cosine continues from: at optimiser step `step` it had
/// reached `progress` (0 at the end of warm-up, 1 at the floor). The default
/// is the plain schedule; a time budget moves it whenever it re-plans the
/// step count, so the learning rate stays continuous (docs/spec/training-state.md).
struct ScheduleAnchor {
    std::int64_t step = 0;
    double progress = 0;
};

/// The cosine's progress at `step` (0-based) in [0, 1]: 0 until warm-up ends,
/// then linear from the anchor to 1 at `total_steps`.
double schedule_progress(const TrainSettings& s, std::int64_t step, std::int64_t total_steps,
                         ScheduleAnchor anchor = {});

/// The learning rate at optimiser step `step` (0-based): linear warm-up to the
/// peak over `warmup_steps`, then cosine to the floor at `total_steps`.
/// With total_steps == 0 (not yet planned) the peak is held after warm-up.
double learning_rate(const TrainSettings& s, std::int64_t step, std::int64_t total_steps,
                     ScheduleAnchor anchor = {});

}  // namespace itera
