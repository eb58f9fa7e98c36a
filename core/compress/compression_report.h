#pragma once
// What a compressed (or pruned, or distilled) model cost, measured: its size,
// each tensor's error, its quality on held-out text against the FP32 source
// and both models' speeds, plus how it was made (a mixed-precision plan, a
// pruning plan and fine-tune, a distillation). Kept in the run store as JSON;
// this type is the one place that JSON is written and read, so the inspector,
// the reports and the CLI never look up keys by hand. The keys are listed in
// docs/compression.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eval/quality_stats.h"
#include "infer/paired_timing.h"
#include "model/config.h"

namespace itera {

/// One tensor of the file, with the error of its stored form.
struct TensorReport {
    std::string name;
    std::vector<std::int64_t> shape;
    std::string scheme;  ///< "f32" when left as it was
    std::int64_t bytes = 0;
    std::int64_t source_bytes = 0;
    double rel_rms = 0;             ///< ‖w − ŵ‖ / ‖w‖
    std::optional<double> sqnr_db;  ///< absent for an exact tensor (infinite SQNR)
};

/// The held-out text a model was measured on.
struct EvalTextReport {
    std::string data;   ///< corpus name or path
    std::string split;  ///< "validation"
    std::int64_t tokens = 0;
    std::int64_t bytes = 0;
};

/// Both models on that text.
struct QualityReport {
    double source_perplexity = 0, perplexity = 0;
    double delta_ppl_pct = 0;  ///< 100 · (perplexity / source_perplexity − 1)
    double source_bits_per_byte = 0, bits_per_byte = 0;
    double kld = 0;             ///< mean KL(source ‖ model), nats per token
    double top1_agreement = 0;  ///< fraction of positions with the same most likely token
};

/// How the speeds were taken.
struct TimingReport {
    std::int64_t rounds = 0;
    int threads = 1;
    std::int64_t decode_tokens = 0, prefill_tokens = 0;
};

/// Both models timed interleaved in one measurement (infer/paired_timing.h):
/// every speed ratio the workbench shows comes from here.
struct PairedSpeedReport {
    int threads = 1, pairs = 0;
    std::int64_t decode_tokens = 0, prompt_tokens = 0, batch = 0, batch_tokens = 0;
    PairedRate decode, prefill, batched;  ///< a = the source, b = this model
};

/// Both models' speeds and decoder memory.
struct SpeedReport {
    double source_decode_tokens_per_s = 0, decode_tokens_per_s = 0;
    double source_prefill_tokens_per_s = 0, prefill_tokens_per_s = 0;
    std::int64_t source_weight_bytes = 0, weight_bytes = 0;
    TimingReport timing;
};

/// A mixed-precision plan: one scheme per tensor group, and what the sweep predicted.
struct MixedPlanReport {
    struct Choice {
        std::string group;
        std::string scheme;
        std::int64_t group_size = 0;
        std::int64_t bytes = 0;
        double predicted_delta_loss = 0;
        double kld = 0;  ///< the group's measured mean KLD in this scheme
    };
    std::vector<Choice> plan;
    std::optional<std::int64_t> target_bytes;
    std::optional<double> target_bits_per_weight;
    std::optional<double> target_kld;
    std::int64_t predicted_bytes = 0;
    double predicted_kld = 0;
    double predicted_delta_loss = 0;
    double predicted_delta_ppl_pct = 0;
    double noise_floor = 0;  ///< median standard error of the sweep's per-group KLD
    double above_noise = 0;  ///< share of the sweep's effects at least twice their noise
    /// The plan against every uniform scheme that meets the target, measured
    /// on the calibration text: the better one is written.
    struct Candidate {
        std::string name;  ///< "plan", or a scheme name
        std::int64_t bytes = 0;
        double kld = 0, kld_unc = 0;
        bool meets_target = false;
    };
    std::vector<Candidate> candidates;
    std::string chosen;  ///< "plan" or the uniform scheme written instead
    std::string reason;  ///< why, in a sentence
    std::string calibration_data, calibration_split;
    std::int64_t calibration_tokens = 0;
    double calibration_source_loss = 0;
};

/// What pruning measured and cut.
struct PruningReport {
    ModelConfig before, after;
    std::string expert_criterion;  ///< empty when no experts were cut
    std::int64_t calibration_tokens = 0;
    double calibration_loss = 0;
    struct Expert {
        std::int64_t layer = 0, expert = 0;
        double load = 0, delta_loss = 0;
        bool kept = true;
    };
    std::vector<Expert> experts;
    /// Share of summed importance the kept units carry, by group.
    std::vector<std::pair<std::string, double>> ffn_importance_kept, channel_importance_kept;
};

/// The fine-tune after a cut.
struct FinetuneReport {
    std::int64_t run_id = 0, steps = 0, tokens = 0;
    double lr = 0;
    std::string untuned;  ///< the file as cut
    std::optional<std::int64_t> untuned_compression_id;
};

/// A student trained from a teacher (or its baseline without one).
struct DistillationReport {
    std::int64_t run_id = 0;
    std::string student_preset;
    bool teacher = false;  ///< false: the baseline trained without the teacher
    double alpha = 0, temperature = 0;
    std::int64_t steps = 0, tokens = 0;
    std::optional<std::int64_t> baseline_run_id;  ///< on the distilled student's report
    std::optional<std::int64_t> student_run_id;   ///< on the baseline's report
};

struct CompressionReport {
    std::string method;  ///< a scheme name, "mixed", "prune", "prune+finetune", "distill", ...
    std::string source, path;
    std::int64_t source_bytes = 0, bytes = 0;  ///< the files on disk
    double ratio = 0;                          ///< source_bytes / bytes
    std::optional<double> bpw;                 ///< bits per quantized weight, scales included
    std::optional<std::int64_t> quantized_weights;
    std::vector<TensorReport> tensors;
    std::optional<std::int64_t> params, source_params;  ///< pruned and distilled models

    std::optional<EvalTextReport> eval;  ///< absent when quality was not measured
    std::optional<QualityReport> quality;
    std::optional<QualityStats> statistics;  ///< llama.cpp's statistics, with uncertainties
    std::optional<SpeedReport> speed;        ///< the paired medians (older reports: unpaired)
    std::optional<PairedSpeedReport> paired;

    std::optional<MixedPlanReport> mixed;
    std::optional<PruningReport> pruning;
    std::optional<FinetuneReport> finetune;
    std::optional<DistillationReport> distillation;

    std::optional<std::int64_t> compression_id;  ///< its record in the run store

    /// The JSON object described in docs/compression.md.
    std::string to_json() const;
    /// Parses what to_json wrote (and the reports of earlier versions, which
    /// used the same keys). Throws itera::Error naming the field that is wrong.
    static CompressionReport from_json(const std::string& text);
};

}  // namespace itera
