#pragma once
// The trainer: runs one run from its start or its latest checkpoint to its
// end, writing checkpoints to the run's folder and reporting metrics (in
// batches), checkpoints and status through a RunRecorder — it never opens the
// run store itself. Reproducible bit for bit on the same
// machine and thread count: micro-batch m of step s and its dropout masks are
// pure functions of (seed, s, m), so a resumed run follows the same curve; the
// grad_accum micro-batches of a step may be split over W processes (rank r
// computes m ≡ r mod W), which computes what one process does.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/data_spec.h"
#include "eval/eval_result.h"
#include "tokenizer/tokenizer.h"
#include "train/collective.h"
#include "train/recorder.h"
#include "train/train_settings.h"

namespace itera {

/// Steers a training run from another thread.
class TrainControl {
public:
    void pause() { paused_ = true; }
    void resume() { paused_ = false; }
    /// Finishes the current step, saves a checkpoint and ends the run as `stopped`.
    void stop() { stop_ = true; }
    /// Ends the run as `stopped` once step `step` is done, evaluated and
    /// checkpointed (a sweep's rung); 0: no such step.
    void stop_at(std::int64_t step) { stop_at_ = step; }
    std::int64_t stop_step() const { return stop_at_; }
    /// Clears the flags and the stop step, so one control can steer successive runs.
    void reset() {
        paused_ = false;
        stop_ = false;
        stop_at_ = 0;
    }
    bool paused() const { return paused_; }
    bool stop_requested() const { return stop_; }

private:
    std::atomic<bool> paused_{false}, stop_{false};
    std::atomic<std::int64_t> stop_at_{0};
};

struct TrainProgress {
    enum class Kind { Step, Eval, Checkpoint, Planned, Paused, Resumed };
    Kind kind = Kind::Step;
    std::int64_t step = 0;
    std::int64_t total_steps = 0;  ///< 0 while a time budget is not yet planned
    std::int64_t tokens = 0;
    double wall_s = 0;
    double train_loss = 0, aux_loss = 0, lr = 0, grad_norm = 0;
    double tokens_per_s = 0;         ///< recent steps, including evaluation and checkpoint time
    double eta_s = 0;                ///< 0 when unknown, and while paused
    double budget_s = 0;             ///< the time budget (wall_s counts towards it), 0 without one
    std::optional<EvalResult> eval;  ///< the latest evaluation
    std::vector<std::vector<double>> expert_load;  ///< per MoE layer, fraction per expert
    std::string message;                           ///< for Checkpoint (path) and Planned
    /// The metric points recorded since the previous call, exactly as they are
    /// stored: a viewer can follow the run without reading the database.
    std::vector<MetricPoint> points;
};

struct TrainResult {
    RunStatus status = RunStatus::Finished;
    std::string message;
    std::int64_t steps = 0, tokens = 0;
    double wall_s = 0;
    double train_loss = 0;
    double tokens_per_s = 0;  ///< tokens of this session / its wall time, all overheads included
    std::optional<EvalResult> final_eval;
    std::optional<double> best_val_loss;
    std::filesystem::path best_checkpoint, latest_checkpoint;
};

/// Throws itera::Error if `data` cannot train `settings`: vocabulary mismatch,
/// a training split shorter than one sequence, an empty validation split.
void check_train_data(const TrainSettings& settings, const TrainData& data);

/// Where a run's output goes: its id (written into every checkpoint's
/// metadata), its folder of checkpoints and the recorder of everything else.
struct RunOutput {
    std::int64_t run_id = 0;
    std::filesystem::path run_dir;
    RunRecorder* recorder = nullptr;  ///< required
    /// The run's processes when it is data-parallel (docs/distributed.md);
    /// null: this process alone. Only rank 0 writes checkpoints; the others'
    /// recorder should write nothing and their run_dir is unused.
    Collective* group = nullptr;
};

/// Trains run `out.run_id` with `settings` (resuming from the newest
/// checkpoint in `out.run_dir` when there is one) until it finishes, is
/// stopped, fails or stops early. Reports the run's status to the recorder; a
/// failure is also rethrown as itera::Error — as CollectiveError (the run
/// recorded `interrupted`) when another rank of a distributed run failed.
TrainResult train_run(const RunOutput& out, TrainSettings settings, const TrainData& data,
                      TrainControl* control = nullptr,
                      const std::function<void(const TrainProgress&)>& progress = {});

}  // namespace itera
