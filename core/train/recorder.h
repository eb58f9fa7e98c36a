#pragma once
// Where a training run's record goes: the trainer reports its metrics, its
// checkpoints and its status through this small interface and never opens a
// database itself. The run store implements it (workflows/store_recorder.h);
// tests and the second ranks of a distributed run use one that writes nothing.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace itera {

enum class RunStatus { Queued, Running, Paused, Finished, Failed, Stopped, Interrupted };
/// "queued", "running", ... — the names stored in the run store.
std::string run_status_name(RunStatus s);
/// Inverse of run_status_name; throws itera::Error naming the text.
RunStatus parse_run_status(const std::string& name);

struct MetricPoint {
    std::int64_t step = 0;
    std::int64_t tokens = 0;
    double wall_s = 0;
    std::string name;
    double value = 0;
};

struct CheckpointRecord {
    std::int64_t run_id = 0;
    std::int64_t step = 0;
    std::string kind;  ///< "latest" or "best"
    std::string path;
    std::int64_t bytes = 0;
    std::string sha256;
    std::optional<double> val_loss;
};

class RunRecorder {
public:
    virtual ~RunRecorder() = default;

    /// The run is running in this process (at its start, and after a pause).
    virtual void started() = 0;
    virtual void paused() = 0;
    /// The run ended (finished, stopped, failed); `message` says why.
    virtual void ended(RunStatus status, const std::string& message) = 0;
    /// The run's settings changed (a time budget became a step count).
    virtual void settings_changed(const std::string& config_json) = 0;
    /// New metric points, in one batch; an empty batch is a heartbeat (the
    /// run is alive while paused).
    virtual void metrics(const std::vector<MetricPoint>& points) = 0;
    /// Points after `step` are void: the run resumed from that step's checkpoint.
    virtual void truncate_metrics(std::int64_t step) = 0;
    virtual void checkpoint_written(const CheckpointRecord& checkpoint) = 0;
    /// A checkpoint file was removed or is about to be replaced.
    virtual void checkpoint_removed(const std::string& path) = 0;
};

/// Records nothing: for tests, benchmarks and processes that must not write.
class NullRecorder final : public RunRecorder {
public:
    void started() override {}
    void paused() override {}
    void ended(RunStatus, const std::string&) override {}
    void settings_changed(const std::string&) override {}
    void metrics(const std::vector<MetricPoint>&) override {}
    void truncate_metrics(std::int64_t) override {}
    void checkpoint_written(const CheckpointRecord&) override {}
    void checkpoint_removed(const std::string&) override {}
};

}  // namespace itera
