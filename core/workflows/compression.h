#pragma once
// Compressing a stored model and keeping what it cost: the held-out text of
// the source's run, the measurement (compress/measure.h) and the record in
// the run store, for every way a smaller model is made (a scheme, a mixed
// plan, pruning, distillation). Shared by `itera compress|prune|distill` and
// the workbench; each call opens its own store connection.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "compress/compress.h"
#include "compress/compression_report.h"
#include "compress/mixed.h"
#include "util/workspace.h"

namespace itera {

struct MeasureRequest {
    bool evaluate = true;                  ///< false: sizes, tensor errors and speeds only
    std::optional<std::string> eval_data;  ///< held-out corpus; default: the source run's
    std::int64_t max_tokens = 65536;       ///< evaluated tokens at most
    int threads = 0;                       ///< 0 = all cores
    int timing_pairs = 5;                  ///< interleaved pairs per speed comparison (>= 5)
    /// Called with the phase ("compressing", "comparing on held-out text", ...)
    /// and its progress in [0, 1] (-1 when unknown).
    std::function<void(const std::string& phase, double fraction)> progress;
    const std::atomic<bool>* cancel = nullptr;  ///< set to stop; throws itera::Error("cancelled")
};

struct MeasuredCompression {
    CompressResult result;  ///< for a model made otherwise: path and sizes only
    CompressionReport report;
    std::optional<std::int64_t> compression_id;  ///< its record in the run store
    std::string store_error;                     ///< why it was not stored, when it was not
};

/// Compresses `source` into `out` with `options`, measures it and records it
/// in the workspace's run store (with the source's run when the store has it).
MeasuredCompression compress_and_measure(const Workspace& ws, const std::filesystem::path& source,
                                         const CompressOptions& options,
                                         const std::filesystem::path& out,
                                         const MeasureRequest& measure);

/// Measures the model file `out` against its FP32 `source` on top of `base`
/// (which names at least the method and how the model was made), and records
/// it. For models made otherwise than by compress_checkpoint: pruned and
/// distilled ones.
MeasuredCompression measure_and_record(const Workspace& ws, const std::filesystem::path& source,
                                       const std::filesystem::path& out, CompressionReport base,
                                       const MeasureRequest& measure);

/// Measures every group of `source` at every candidate on calibration text
/// (the training split of `data`, default the source run's corpus), or reuses
/// the sweep stored for the same file and settings, and stores a new one.
SensitivitySweep sweep_sensitivity(const Workspace& ws, const std::filesystem::path& source,
                                   const SweepSettings& settings,
                                   const std::optional<std::string>& data = std::nullopt);

/// Sweeps (or reuses the stored sweep), plans for `target`, then compresses
/// and measures the plan like any other method (the report carries the plan
/// and the predicted figures). `sweep`'s progress and cancel are used for the
/// sweep, `measure`'s for the rest.
MeasuredCompression compress_mixed_and_measure(
    const Workspace& ws, const std::filesystem::path& source, const MixedTarget& target,
    const SweepSettings& sweep, const std::optional<std::string>& sweep_data,
    const std::filesystem::path& out, const MeasureRequest& measure);

}  // namespace itera
