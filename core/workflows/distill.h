#pragma once
// `itera distill` end to end: train a student preset from a teacher checkpoint
// (loss in train/distill_loss.h; a run in the store linked to its teacher),
// then the same student without the teacher for the same number of steps
// (same seed: same initial weights and batches), and measure both against the
// teacher like any compression, so the report shows what the teacher bought.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "train/trainer.h"
#include "workflows/compression.h"

namespace itera {

struct DistillOptions {
    std::string student_preset = "micro";
    double alpha = 0.5;
    double temperature = 2.0;
    /// Length and optimisation of the student (steps or minutes, batch, lr,
    /// seed, threads); its model and teacher fields are set from the above.
    TrainSettings train;
    bool baseline = true;  ///< also train the student without the teacher
    TrainControl* control = nullptr;
    /// Called with "student" or "baseline" and each progress report.
    std::function<void(const std::string& which, const TrainProgress&)> progress;
};

struct DistilledModel {
    std::int64_t run_id = 0;
    TrainResult train;
    std::filesystem::path model;  ///< the last step's weights, named, in the run's folder
    std::optional<MeasuredCompression> measured;  ///< the student's final weights vs the teacher
};

struct DistillResult {
    DistilledModel student;
    std::optional<DistilledModel> baseline;
};

/// Trains on the teacher run's corpus (the default corpus when the teacher has
/// no stored run); `measure` says where the store is and how to measure.
DistillResult distill_and_measure(const Workspace& ws, const std::filesystem::path& teacher,
                                  const DistillOptions& options, const MeasureRequest& measure);

}  // namespace itera
