#pragma once
// Mixed precision by measured sensitivity. A sweep quantizes one group of
// tensors at a time (the embedding; each layer's in/x/dt/out projections; each
// expert; each router; each dense FFN) to each candidate scheme, everything
// else kept FP32, and measures the change in loss and the KL divergence
// against the FP32 model on calibration text (a slice of the training split,
// so the held-out text stays unseen). The planner then picks a scheme per
// group for a target size, greedily taking the cheapest loss increase per
// byte saved, and the chosen plan is built and measured like any other
// compression.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compress/compress.h"
#include "compress/measure.h"
#include "model/config.h"

namespace itera {

/// Tensors quantized together in the sweep and the plan.
struct TensorGroup {
    std::string name;  ///< "embed", "layers.1.mixer.in_proj", "layers.1.ffn.experts.2", ...
    std::vector<std::string> tensors;
    std::int64_t weights = 0;
};

/// The compressible tensors of `config` in groups, in the spec's order.
std::vector<TensorGroup> tensor_groups(const ModelConfig& config);

/// One group at one scheme, measured.
struct Sensitivity {
    std::string group;
    QuantSettings settings;
    std::int64_t bytes = 0;         ///< the group's stored bytes in this scheme (scales included)
    std::int64_t source_bytes = 0;  ///< ... in FP32
    double delta_loss = 0;          ///< calibration loss minus the FP32 model's (nats/token)
    double kld = 0;                 ///< mean KL(FP32 ‖ this), nats/token
};

struct SensitivitySweep {
    std::string source_sha256;
    std::string data;  ///< the calibration corpus
    std::int64_t tokens = 0;
    double source_loss = 0;
    std::vector<Sensitivity> entries;
};

struct SweepOptions {
    std::vector<QuantSettings> candidates = {{Scheme::Int8, 64, false}, {Scheme::Int4, 64, false}};
    std::int64_t calibration_tokens = 8192;
    std::optional<std::string> data;  ///< corpus; default: the source run's
    int threads = 0;
    std::filesystem::path db;  ///< run store (the source run's corpus; sweeps are kept there)
    std::function<void(const std::string& phase, double fraction)> progress;
    const std::atomic<bool>* cancel = nullptr;
};

/// Measures every group at every candidate (or reuses the stored sweep of the
/// same file, candidates and calibration settings) and stores it.
SensitivitySweep sweep_sensitivity(const std::filesystem::path& source,
                                   const SweepOptions& options);

struct MixedPlan {
    CompressOptions options;  ///< per_tensor filled
    struct Choice {
        std::string group;
        QuantSettings settings;  ///< F32 when kept
        std::int64_t bytes = 0;
        double delta_loss = 0;
    };
    std::vector<Choice> choices;
    std::int64_t predicted_bytes = 0;  ///< the file, as the planner predicted it
    std::int64_t file_bytes = 0;       ///< the file as written (plan_mixed_for_file)
    double predicted_delta_loss = 0;   ///< sum over groups (assumes their effects add)
};

/// A target: the file's size in bytes, or bits per quantizable weight.
struct MixedTarget {
    std::optional<std::int64_t> bytes;
    std::optional<double> bits_per_weight;
};

/// The plan meeting `target` with the least predicted loss increase. Throws
/// naming the smallest reachable size when the target is below it. `reserve`
/// bytes are kept free (the file's header grows with each quantized tensor).
MixedPlan plan_mixed(const SensitivitySweep& sweep, const ModelConfig& config,
                     std::int64_t source_file_bytes, const MixedTarget& target,
                     std::int64_t reserve = 0);

/// plan_mixed, checked against the real file: the plan is written to a
/// temporary file and, while that file is larger than a size target, planned
/// again with the overshoot reserved (at least 64 bytes more each time, up
/// to 20 plans); throws when none fits.
MixedPlan plan_mixed_for_file(const SensitivitySweep& sweep, const std::filesystem::path& source,
                              const MixedTarget& target);

/// The plan for a compression report (a JSON object): "plan" (group, scheme,
/// group_size, bytes, predicted_delta_loss), "target", "predicted_bytes",
/// "predicted_delta_loss", "predicted_delta_ppl_pct" and "calibration".
std::string mixed_report_json(const MixedPlan& plan, const SensitivitySweep& sweep,
                              const MixedTarget& target);

/// Sweeps (or reuses the stored sweep), plans for `target`, then compresses
/// and measures the plan like any other method (the report carries the plan
/// and the predicted figures). `sweep`'s progress and cancel are used for the
/// sweep, `measure`'s for the rest. Shared by the CLI and the workbench.
MeasuredCompression compress_mixed_and_measure(const std::filesystem::path& source,
                                               const MixedTarget& target, const SweepOptions& sweep,
                                               const std::filesystem::path& out,
                                               const MeasureOptions& measure);

/// "2MB", "512KB", "1500000" → bytes; itera::Error naming the text otherwise.
std::int64_t parse_size(const std::string& text);

}  // namespace itera
