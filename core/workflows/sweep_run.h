#pragma once
// Running a sweep (docs/sweeps.md): sampling its configurations, creating a
// run per trial, training each trial in an `itera train --resume RUN
// --until-step S` process (up to `parallel` at once, the threads divided),
// and taking every early-stopping decision from the stored validation
// metrics. Everything a resumed sweep needs is in the store: the spec, each
// trial's parameters, status and target step, so a killed sweep goes on
// where it was and no trial starts over.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/sweep_view.h"
#include "store/run_store.h"
#include "sweep/sweep_spec.h"
#include "util/workspace.h"

namespace itera {

struct SweepRunOptions {
    int parallel = 1;  ///< trials trained at once
    int threads = 0;   ///< all of them together (0: all cores), divided between the trials
    /// Set from another thread (or a signal handler) to stop: running trials
    /// checkpoint and the sweep is left `stopped`, ready to resume.
    std::atomic<bool>* stop = nullptr;
    /// A line for each event (a trial started, reached a rung, was stopped...).
    std::function<void(const std::string&)> log;
};

/// Validates the spec and records a new sweep (status `running`, owned by
/// this process); returns its id. Nothing is trained yet.
std::int64_t create_sweep(RunStore& store, const SweepSpec& spec);

/// Runs (or resumes) sweep `id` until every trial is done, the total budget is
/// spent or `options.stop` is set. Returns the sweep's final status.
std::string run_sweep(const Workspace& ws, RunStore& store, std::int64_t id,
                      const SweepRunOptions& options);

}  // namespace itera
