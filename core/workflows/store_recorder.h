#pragma once
// The run store as a training run's recorder, and training a stored run with
// it: the one place where the trainer's reports become rows.

#include <cstdint>
#include <functional>

#include "store/run_store.h"
#include "train/trainer.h"

namespace itera {

/// Writes a run's metrics, checkpoints and status to `store` (one connection,
/// used from the training thread only).
class StoreRecorder final : public RunRecorder {
public:
    StoreRecorder(RunStore& store, std::int64_t run_id) : store_(store), run_(run_id) {}

    void started() override { store_.start_run(run_); }
    void paused() override { store_.set_status(run_, RunStatus::Paused); }
    void ended(RunStatus status, const std::string& message) override {
        store_.set_status(run_, status, message);
    }
    void settings_changed(const std::string& config_json) override {
        store_.set_config(run_, config_json);
    }
    void metrics(const std::vector<MetricPoint>& points) override {
        store_.append_metrics(run_, points);
    }
    void truncate_metrics(std::int64_t step) override { store_.truncate_metrics(run_, step); }
    void checkpoint_written(const CheckpointRecord& c) override { store_.add_checkpoint(c); }
    void checkpoint_removed(const std::string& path) override {
        store_.forget_checkpoint(run_, path);
    }

private:
    RunStore& store_;
    std::int64_t run_;
};

/// Trains run `run_id` of `store` (see train_run), its files in the run's folder;
/// `group`: the run's processes, this one rank 0.
inline TrainResult train_stored_run(RunStore& store, std::int64_t run_id,
                                    const TrainSettings& settings, const TrainData& data,
                                    TrainControl* control = nullptr,
                                    const std::function<void(const TrainProgress&)>& progress = {},
                                    Collective* group = nullptr) {
    StoreRecorder recorder(store, run_id);
    return train_run({run_id, store.claim_run_dir(run_id), &recorder, group}, settings, data,
                     control, progress);
}

}  // namespace itera
