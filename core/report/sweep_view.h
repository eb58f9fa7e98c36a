#pragma once
// A sweep as its views show it (itera sweep show, the sweep report, the
// workbench's Sweeps page): the spec, each trial's parameters, status and
// decisions, and its run's objective read from the stored metrics.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/run_store.h"
#include "sweep/sweep_spec.h"

namespace itera {

/// One trial as the sweep's views show it: its record, its run's figures.
struct TrialView {
    TrialRecord record;
    nlohmann::json params = nlohmann::json::object();  ///< the varied parameters (no seed)
    std::int64_t seed = 0;
    std::optional<double> objective;  ///< the best value of the objective so far
    std::int64_t best_step = -1;      ///< the step where it was reached
    std::int64_t steps_done = 0;
    std::string run_status;  ///< the run's status ("" when the run was deleted)
};

/// A sweep with its trials, for `itera sweep show`, reports and the workbench.
struct SweepView {
    SweepRecord record;
    SweepSpec spec;
    std::vector<TrialView> trials;
    std::optional<std::size_t> best;  ///< the trial with the best objective
};

/// The sweep and its trials with their runs' figures.
SweepView sweep_view(RunStore& store, std::int64_t id);

/// The objective of a run: the best value of `metric` at steps <= `up_to`
/// (all steps when negative), with that step; nullopt without a point.
std::optional<std::pair<double, std::int64_t>> run_objective(RunStore& store, std::int64_t run_id,
                                                             const std::string& metric,
                                                             bool maximize,
                                                             std::int64_t up_to = -1);

/// The trials grouped by configuration (trials that differ only by seed):
/// the mean and sample standard deviation of their objectives.
struct ConfigurationSummary {
    nlohmann::json params;
    std::vector<std::size_t> trials;  ///< indices into SweepView::trials
    std::size_t measured = 0;         ///< trials with an objective
    double mean = 0, stddev = 0;      ///< stddev: 0 with fewer than two measured
};
std::vector<ConfigurationSummary> summarize_configurations(const SweepView& view);

/// "12.5" or "0.002": a parameter's value as tables show it.
std::string parameter_text(const nlohmann::json& v);
/// "dropout" for "model.dropout": a parameter as column headers show it.
std::string parameter_label(const std::string& name);

}  // namespace itera
