#pragma once
// Structured pruning that keeps a valid spec model with smaller dimensions:
// drop MoE experts (num_experts), FFN and expert hidden units (expert_size)
// and SSM inner channels (ssm_expand), choosing what to drop from statistics
// measured on calibration text (a slice of the training split):
//   - an expert's router load (its share of (token, slot) assignments) and its
//     sensitivity: the calibration loss with that expert removed (its router
//     logit never wins — exactly what dropping it does) minus the full model's;
//   - a hidden unit's importance: mean |gelu(w1·u)| over the tokens it sees
//     (experts: weighted by their gate) × ‖its w2 column‖;
//   - an SSM channel's importance: RMS of y ⊙ silu(z) × ‖its out_proj column‖.
// The spec shares one expert_size by every FFN and expert, one num_experts by
// every MoE layer and defines di = ssm_expand · d with an integer ssm_expand,
// so each layer keeps the same counts, chosen per layer by importance.

#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "compress/compression_report.h"
#include "data/token_cache.h"
#include "model/itera_model.h"

namespace itera {

struct PruneOptions {
    std::optional<std::int64_t> experts;  ///< experts kept per MoE layer
    std::optional<double> ffn_keep;       ///< fraction of hidden units kept in (0, 1]
    std::optional<double> channels_keep;  ///< fraction of SSM inner channels kept in (0, 1]
    /// "sensitivity" (measured Δloss when removed) or "load" (router share).
    std::string expert_criterion = "sensitivity";
    std::int64_t calibration_tokens = 16384;
    std::int64_t seq_len = 128;

    bool any() const { return experts || ffn_keep || channels_keep; }
};

/// The target config for `config` under `options`; throws naming the option
/// when it cannot be met by a valid spec model (e.g. fewer experts than
/// top_k_experts, or a channel fraction that is not k / ssm_expand).
ModelConfig pruned_config(const ModelConfig& config, const PruneOptions& options);

struct ExpertStat {
    std::int64_t layer = 0, expert = 0;
    double load = 0;        ///< share of (token, slot) assignments
    double delta_loss = 0;  ///< calibration loss without it minus with it (nats/token)
    bool kept = true;
};

/// What pruning measured and chose (the report's plan).
struct PrunePlan {
    ModelConfig before, after;
    std::string expert_criterion;
    std::int64_t calibration_tokens = 0;
    double calibration_loss = 0;  ///< the unpruned model
    std::vector<ExpertStat> experts;
    /// Per layer (dense FFN) or per (layer, kept expert): the share of summed
    /// importance the kept hidden units carry; and per layer for SSM channels.
    std::vector<std::pair<std::string, double>> ffn_importance_kept, channel_importance_kept;
    /// Kept indices into the source, by tensor group ("layers.1.ffn.experts.0", ...).
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> kept_units;

    std::string to_json() const;
};

struct PruneProgress {
    std::function<void(const std::string& phase, double fraction)> report;
    const std::atomic<bool>* cancel = nullptr;
};

/// The plan as a compression report shows it.
PruningReport pruning_report(const PrunePlan& plan);

/// Measures `model` on `calibration` and chooses what to keep.
PrunePlan plan_pruning(IteraModel& model, const TokenStream& calibration,
                       const PruneOptions& options, const PruneProgress& progress = {});

/// A new model with the plan's dimensions holding the kept slices of `model`'s weights.
IteraModel apply_pruning(IteraModel& model, const PrunePlan& plan);

/// Mean next-token cross-entropy of `model` on `sequences` (B, T+1) with the
/// experts of `dropped` ((layer, expert) pairs) removed from routing: the
/// calibration forward, written with the spec's routing rule (tested equal
/// to the model's own loss when nothing is dropped).
double loss_without_experts(IteraModel& model, const torch::Tensor& sequences,
                            const std::vector<std::pair<std::int64_t, std::int64_t>>& dropped);

}  // namespace itera
