#pragma once
// A run's checkpoints on disk, in its folder:
//
//   checkpoints/step-000500/model.safetensors   the model (spec format)
//   checkpoints/step-000500/state.safetensors   optimiser moments + trainer state
//   best.safetensors                            the model with the lowest val loss
//
// A step folder is written under a temporary name and renamed when both files
// are complete, so a crash never leaves a model without its state or a
// half-written pair. The newest `keep` step folders are kept.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/itera_model.h"
#include "train/optimizer.h"
#include "train/train_settings.h"

namespace itera {

/// Trainer state saved beside the model.
struct TrainerState {
    std::int64_t step = 0;
    std::int64_t tokens = 0;
    double wall_s = 0;
    std::int64_t total_steps = 0;  ///< planned length (0: not planned yet)
    double best_val_loss = 0;      ///< meaningful when best_step >= 0
    std::int64_t best_step = -1;
    std::int64_t evals_without_improvement = 0;
    ScheduleAnchor schedule;  ///< where a re-planned cosine continues from
};

struct CheckpointPaths {
    std::filesystem::path model, state;
};

/// Writes step folder `state.step` under `run_dir`. Returns the final paths.
CheckpointPaths write_checkpoint_pair(const std::filesystem::path& run_dir, const IteraModel& model,
                                      const AdamW& optimizer, const TrainerState& state,
                                      const std::string& tokenizer,
                                      const std::map<std::string, std::string>& metadata);

struct LoadedTrainerState {
    TrainerState state;
    std::vector<std::pair<std::string, torch::Tensor>> moments;
    std::int64_t optimizer_steps = 0;
    CheckpointPaths paths;
};

/// Complete step folders, newest first.
std::vector<CheckpointPaths> list_checkpoint_pairs(const std::filesystem::path& run_dir);

/// Reads a state file written by write_checkpoint_pair.
LoadedTrainerState read_trainer_state(const CheckpointPaths& paths);

/// Removes all but the newest `keep` step folders and any unfinished temporary
/// folder; returns the model paths removed.
std::vector<std::filesystem::path> prune_checkpoint_pairs(const std::filesystem::path& run_dir,
                                                          std::size_t keep);

}  // namespace itera
