#pragma once
// A compressed model and what it cost, measured: compress a checkpoint, then
// compare it with its FP32 source on held-out text (perplexity and its change,
// bits/byte, KL divergence, top-1 agreement), time both decoders in
// alternating rounds, and keep the report in the run store. Shared by
// `itera compress` and the workbench.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "compress/compress.h"
#include "store/run_store.h"

namespace itera {

struct MeasureOptions {
    bool evaluate = true;                  ///< false: sizes and tensor errors only
    std::optional<std::string> eval_data;  ///< held-out corpus; default: the source run's
    std::int64_t max_tokens = 65536;       ///< evaluated tokens at most
    int threads = 0;                       ///< 0 = all cores
    std::filesystem::path db;              ///< run store; empty = RunStore::default_path()
    /// Called with the phase ("compressing", "comparing on held-out text", ...) and
    /// its progress in [0, 1] (-1 when unknown).
    std::function<void(const std::string& phase, double fraction)> progress;
    const std::atomic<bool>* cancel = nullptr;  ///< set to stop; throws itera::Error("cancelled")
    /// A JSON object merged into the report (e.g. a mixed-precision plan).
    std::string extra_report;
};

struct MeasuredCompression {
    CompressResult result;
    std::string
        report;  ///< JSON: sizes, ratio, bpw, tensors, quality, speeds (see docs/compression.md)
    std::optional<std::int64_t> compression_id;  ///< its record in the run store
    std::string store_error;                     ///< why it was not stored, when it was not
};

/// Throws if `out` is the file `source` (writing it would destroy the source).
void check_not_source(const std::filesystem::path& source, const std::filesystem::path& out);

/// Compresses `source` into `out` with `options`, measures it and records it
/// in the run store (with the source's run when the store has it).
MeasuredCompression compress_and_measure(const std::filesystem::path& source,
                                         const CompressOptions& options,
                                         const std::filesystem::path& out,
                                         const MeasureOptions& measure);

/// Measures the model file `out` against its FP32 `source` as above (quality
/// on held-out text, decode and prefill speed), with the sizes of both files,
/// merged into `base_report` (a JSON object naming at least its "method"),
/// and records it. For models made otherwise than by compress_checkpoint:
/// pruned and distilled ones.
MeasuredCompression measure_and_record(const std::filesystem::path& source,
                                       const std::filesystem::path& out,
                                       const std::string& base_report, const MeasureOptions& m);

}  // namespace itera
