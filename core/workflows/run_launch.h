#pragma once
// What the CLI and the GUI share to start or resume a stored run: preparing
// its data (data/data_spec.h) and creating the run record with everything
// needed to trace or resume it.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "data/data_spec.h"
#include "store/run_store.h"
#include "train/train_settings.h"
#include "train/trainer.h"

namespace itera {

/// Creates the run record: settings, data (with the corpus identity), tokenizer
/// fingerprint, seed, library versions and git revision.
std::int64_t create_training_run(RunStore& store, const std::string& name,
                                 const TrainSettings& settings, const DataSpec& spec,
                                 const ReadyData& ready);

/// A run ready to train: its record exists, its data is mapped.
struct LaunchedRun {
    std::int64_t id = 0;
    TrainSettings settings;
    DataSpec spec;
    ReadyData ready;
};

/// Prepares the data of a new run, sizes `settings.model` from
/// `settings.preset` (as `variant`) and the tokenizer's vocabulary unless
/// `model_given` (keeping its dropout), and records the run (named `name`, or
/// "<preset> on <corpus>" when empty).
LaunchedRun launch_new_run(const Workspace& ws, RunStore& store, const std::string& name,
                           TrainSettings settings, bool model_given, const DataSpec& spec,
                           const CacheBuildOptions& options, const ModelVariant& variant = {});

/// Prepares the stored data of run `id` for resuming it (with `threads` when
/// given). Throws if the run is running or paused in another process, or if
/// its data no longer gives the tokenizer it started with.
LaunchedRun launch_resumed_run(const Workspace& ws, RunStore& store, std::int64_t id,
                               std::optional<int> threads, const CacheBuildOptions& options);

/// Throws if the tokenizer prepared for a resumed run is not the one it
/// started with (the corpus or tokenizer files changed since).
void verify_run_data(const RunRecord& run, const ReadyData& ready);

}  // namespace itera
