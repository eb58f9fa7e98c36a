#pragma once
// `itera prune` end to end: measure and prune an FP32 checkpoint (prune.h),
// optionally fine-tune the pruned model briefly as a training run in the store
// (linked to its source), and measure each resulting file against the source
// like any compression (measure.h), so all land in one compression report.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

#include "compress/prune.h"
#include "train/trainer.h"
#include "workflows/compression.h"

namespace itera {

struct FinetuneOptions {
    std::int64_t steps = 0;  ///< 0: no fine-tune
    double lr = 5e-4;        ///< peak; linear warm-up over a tenth, cosine to a tenth
    std::uint64_t seed = 0;
    TrainControl* control = nullptr;
    std::function<void(const TrainProgress&)> progress;
};

struct PrunedModels {
    PrunePlan plan;
    /// The pruned file as cut (at `out`, or beside it as NAME.untuned.safetensors
    /// when fine-tuned) and, after a fine-tune, the tuned one at `out`.
    MeasuredCompression pruned;
    std::optional<MeasuredCompression> tuned;
    std::optional<std::int64_t> finetune_run;
    std::optional<TrainResult> finetune;
};

/// Where the untuned model goes when `out` is fine-tuned.
std::filesystem::path untuned_path(const std::filesystem::path& out);

PrunedModels prune_and_measure(const Workspace& ws, const std::filesystem::path& source,
                               const PruneOptions& options, const FinetuneOptions& finetune,
                               const std::filesystem::path& out, const MeasureRequest& measure);

}  // namespace itera
