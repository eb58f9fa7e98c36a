#pragma once
// Mixed precision by measured sensitivity. A sweep quantizes one group of
// tensors at a time (the embedding; each layer's in/x/dt/out projections; each
// expert; each router; each dense FFN) to each candidate scheme, everything
// else kept FP32, and measures the change in loss and the KL divergence
// against the FP32 model on calibration text (a slice of the training split,
// so the held-out text stays unseen). The planner then picks a scheme per
// group for a target size, greedily taking the cheapest loss increase per
// byte saved, and the chosen plan is built and measured like any other
// compression. Pure: the calibration text comes in; keeping sweeps in the run
// store for reuse is workflows/mixed_run.h's business.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compress/compress.h"
#include "compress/compression_report.h"
#include "data/token_cache.h"
#include "infer/inference_model.h"
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
    double kld = 0;                 ///< mean KL(FP32 ‖ this), nats/token: the planner's cost
    double kld_unc = 0;             ///< its standard error (0 in sweeps stored before it)
};

struct SensitivitySweep {
    std::string source_sha256;
    std::string data;  ///< the calibration corpus
    std::int64_t tokens = 0;
    double source_loss = 0;
    std::vector<Sensitivity> entries;
    /// The median standard error of the entries' KLD, and the share of
    /// entries whose KLD is at least twice its standard error: how far the
    /// measured effects stand above their noise.
    double noise_floor = 0;
    double above_noise = 0;
};

struct SweepSettings {
    std::vector<QuantSettings> candidates = {{Scheme::Int8, 64, false}, {Scheme::Int4, 64, false}};
    /// Calibration tokens to start from; doubled (up to max_calibration_tokens)
    /// while fewer than 90 % of the measured effects stand twice above their noise.
    std::int64_t calibration_tokens = 8192;
    std::int64_t max_calibration_tokens = 32768;
    int threads = 0;
    std::function<void(const std::string& phase, double fraction)> progress;
    const std::atomic<bool>* cancel = nullptr;
};

/// Throws itera::Error when the settings cannot make a sweep (no candidate,
/// f32 as a candidate, fewer than 256 calibration tokens).
void check_sweep_settings(const SweepSettings& settings);

/// What makes two sweeps of the same file interchangeable (a JSON object:
/// candidates, calibration tokens, corpus, split): the key a stored sweep is
/// found by.
std::string sweep_key(const SweepSettings& settings, const std::string& data);

std::string sweep_to_json(const SensitivitySweep& sweep);
/// Throws itera::Error when `text` is not a sweep to_json wrote.
SensitivitySweep sweep_from_json(const std::string& text);

/// Measures every group of `source` (the FP32 model at `source_path`, whose
/// SHA-256 is `source_sha256`) at every candidate on `calibration` (tokens in
/// its tokenizer, from the corpus called `data`).
SensitivitySweep measure_sensitivity(const std::filesystem::path& source_path,
                                     const InferenceModel& source, const std::string& source_sha256,
                                     const TokenStream& calibration,
                                     std::uint64_t calibration_bytes, const std::string& data,
                                     const SweepSettings& settings);

struct MixedPlan {
    CompressOptions options;  ///< per_tensor filled
    struct Choice {
        std::string group;
        QuantSettings settings;  ///< F32 when kept
        std::int64_t bytes = 0;
        double delta_loss = 0;
        double kld = 0;
    };
    std::vector<Choice> choices;
    std::int64_t predicted_bytes = 0;  ///< the file, as the planner predicted it
    std::int64_t file_bytes = 0;       ///< the file as written (plan_mixed_for_file)
    double predicted_delta_loss = 0;   ///< sum over groups (assumes their effects add)
    double predicted_kld = 0;          ///< the same for the mean KLD, which the planner minimises
};

/// A target: the file's size in bytes, bits per quantizable weight, or a
/// bound on the mean KL divergence from the source (the most compression
/// that stays under it).
struct MixedTarget {
    std::optional<std::int64_t> bytes;
    std::optional<double> bits_per_weight;
    std::optional<double> kld;
};

/// The plan meeting `target` with the least predicted KL divergence (a size
/// target), or the smallest plan whose predicted KLD stays under
/// `target.kld · kld_scale`. Throws naming the smallest reachable size when a
/// size target is below it. `reserve` bytes are kept free (the file's header
/// grows with each quantized tensor).
MixedPlan plan_mixed(const SensitivitySweep& sweep, const ModelConfig& config,
                     std::int64_t source_file_bytes, const MixedTarget& target,
                     std::int64_t reserve = 0, double kld_scale = 1.0);

/// plan_mixed, checked against the real file: the plan is written to a
/// temporary file and, while that file is larger than a size target, planned
/// again with the overshoot reserved (at least 64 bytes more each time, up
/// to 20 plans); throws when none fits.
MixedPlan plan_mixed_for_file(const SensitivitySweep& sweep, const std::filesystem::path& source,
                              const MixedTarget& target, double kld_scale = 1.0);

/// The plan as a compression report shows it: each group's scheme, the
/// target, the predicted size and loss change, and the calibration.
MixedPlanReport mixed_plan_report(const MixedPlan& plan, const SensitivitySweep& sweep,
                                  const MixedTarget& target);

/// "2MB", "512KB", "1500000" → bytes; itera::Error naming the text otherwise.
std::int64_t parse_size(const std::string& text);

}  // namespace itera
