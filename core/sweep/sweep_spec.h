#pragma once
// A sweep's specification (docs/sweeps.md): the base run, the parameters that
// vary and how, the sampling method, the objective, early stopping and the
// budgets. Parsed strictly: every unknown key or impossible value is an error
// naming it, and every parameter's extremes are applied to the base and
// validated before the first trial runs.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace itera {

/// One varied setting: a list of values, or a range sampled uniformly (in its
/// logarithm when `log`).
struct SweepParameter {
    std::string name;  ///< a training-settings key ("lr") or "model.<key>" ("model.dropout")
    nlohmann::json values = nlohmann::json::array();  ///< non-empty for a list
    double lo = 0, hi = 0;                            ///< a range when `values` is empty
    bool log = false;
    bool integer = false;  ///< range values are rounded to integers
    bool is_range() const { return values.empty(); }
};

enum class SweepMethod { Grid, Random, Tpe };
std::string sweep_method_name(SweepMethod m);

struct SweepSpec {
    std::string name;
    nlohmann::json base = nlohmann::json::object();  ///< a training config, "data" included
    std::vector<SweepParameter> parameters;
    SweepMethod method = SweepMethod::Random;
    std::int64_t configurations = 0;  ///< sampled settings (grid: its size, or fewer)
    std::int64_t seeds = 1;           ///< each configuration run with seeds base.seed + 0..seeds-1
    std::uint64_t seed = 0;           ///< the sampler's seed
    std::string metric = "val_bits_per_byte";  ///< the objective, a stored metric
    bool maximize = false;
    std::vector<std::int64_t> rungs;  ///< ASHA's rungs in steps; empty: no early stopping
    std::int64_t reduction = 3;       ///< ASHA keeps the best 1/reduction of a rung
    double total_minutes = 0;         ///< no trial starts or goes on after this (0: no limit)
    std::int64_t tpe_startup = 8;     ///< TPE: random configurations before the model is used
    std::int64_t tpe_candidates = 24;
    double tpe_gamma = 0.25;  ///< TPE: the share of observations called good

    std::int64_t trial_count() const { return configurations * seeds; }
    bool early_stopping() const { return !rungs.empty(); }
    /// The spec as JSON with every key explicit (stored with the sweep).
    std::string to_json() const;
    /// Throws itera::Error naming the first problem (see the header comment).
    static SweepSpec from_json(const std::string& text);
};

/// The canonical name of a parameter as written in a spec: training-settings
/// keys stay ("lr", "steps"), model keys gain "model." ("dropout" →
/// "model.dropout"); "preset" is allowed. Throws naming an unknown name, and
/// refuses "seed" and "threads" (use `seeds`; threads are the sweep's).
std::string canonical_parameter(const std::string& name);

/// A trial's training settings (JSON, ready for TrainSettings::from_json):
/// the CLI's defaults (learning rate 0.002), the base config's keys over them
/// ("data" left out), then the point's. The model is the preset's (the
/// point's "preset", else the base's, else "mini") for `vocab_size` tokens,
/// with the base's "model" keys and then the point's "model.<key>" values set
/// on it.
nlohmann::json trial_settings(const nlohmann::json& base, const nlohmann::json& point,
                              std::int64_t vocab_size);

}  // namespace itera
