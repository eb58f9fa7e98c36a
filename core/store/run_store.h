#pragma once
// The run store: one SQLite database (WAL, foreign keys, numbered migrations)
// that keeps every training run, every metric point and every checkpoint.
//
// A RunStore object is one connection and belongs to one thread; threads that
// need the store open their own (SQLite serialises writers across them). A run
// whose process died while it was running or paused is marked `interrupted`
// the next time any connection opens the database.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace itera {

enum class RunStatus { Queued, Running, Paused, Finished, Failed, Stopped, Interrupted };
std::string run_status_name(RunStatus s);
RunStatus parse_run_status(const std::string& name);

struct NewRun {
    std::string name;
    std::string config_json;  ///< the complete run settings (model config included)
    std::string preset;
    std::string dataset;    ///< corpus identity
    std::string tokenizer;  ///< tokenizer fingerprint
    std::uint64_t seed = 0;
    std::string library_versions;
    std::string git_revision;
    std::optional<std::int64_t> parent_run_id;  ///< the run of the model this one starts from
    std::string parent_checkpoint;              ///< that model's file
    std::string parent_relation;  ///< "fine-tune" (its weights), "teacher" (distilled from it)
};

struct RunRecord {
    std::int64_t id = 0;
    std::string name;
    RunStatus status = RunStatus::Queued;
    std::string created_at, started_at, ended_at;  ///< ISO 8601 UTC; empty when not yet
    std::string config_json, preset, dataset, tokenizer, library_versions, git_revision;
    std::uint64_t seed = 0;
    std::string notes, message;  ///< message: why it failed or stopped
    std::vector<std::string> tags;
    std::optional<std::int64_t> parent_run_id;
    std::string parent_checkpoint, parent_relation;  ///< see NewRun
};

struct MetricPoint {
    std::int64_t step = 0;
    std::int64_t tokens = 0;
    double wall_s = 0;
    std::string name;
    double value = 0;
};

/// A compressed model made from a checkpoint, with its measured report (JSON).
struct CompressionRecord {
    std::int64_t id = 0;
    std::optional<std::int64_t> run_id;  ///< the source checkpoint's run, when it has one
    std::string source_path;
    std::string method;    ///< a scheme name ("int8", ...)
    std::string settings;  ///< JSON: the options and the full measured report
    std::string path;
    std::int64_t bytes = 0;
    std::string sha256;
    std::string created_at;
};

/// One generation of the prompt playground (or the CLI), kept for the history.
struct GenerationRecord {
    std::int64_t id = 0;
    std::optional<std::int64_t> run_id;  ///< the model's run, when it has one
    std::string model_path;
    std::string prompt;
    std::string settings;  ///< JSON: sampling settings, stop strings, stop reason, speeds
    std::string output;
    std::int64_t tokens = 0;
    double seconds = 0;
    std::string created_at;
};

/// One request the HTTP server answered; its id is the request's feedback_id.
struct ServedRecord {
    std::int64_t id = 0;
    std::optional<std::int64_t> run_id;  ///< the model's run, when it has one
    std::string model_path, variant, endpoint;
    std::string prompt;
    std::string settings;  ///< JSON: sampling settings, stop reason
    std::string output;
    std::int64_t tokens = 0;
    double latency_ms = 0;
    std::string created_at;
};

/// What a user said of a served answer.
struct FeedbackRecord {
    std::int64_t id = 0;
    std::int64_t served_id = 0;
    int rating = 0;  ///< 1..5
    std::string correctness, comments;
    std::string created_at;
    ServedRecord served;  ///< filled by `feedback()`
};

/// A sensitivity sweep of a checkpoint (compress/mixed.h), kept so plans for
/// other targets reuse it.
struct SweepRecord {
    std::int64_t id = 0;
    std::optional<std::int64_t> run_id;
    std::string source_path;
    std::string source_sha256;
    std::string settings;  ///< JSON: candidates and calibration (the reuse key)
    std::string sweep;     ///< JSON: every group at every candidate, measured
    std::string created_at;
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

class RunStore {
public:
    /// <user data dir>/runs.sqlite.
    static std::filesystem::path default_path();

    /// Opens (creating if needed) and migrates the database at `path`.
    explicit RunStore(const std::filesystem::path& path);
    ~RunStore();
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;

    const std::filesystem::path& path() const { return path_; }
    /// Where run `id` keeps its files: <db folder>/runs/<id>.
    std::filesystem::path run_dir(std::int64_t id) const;
    int schema_version() const;

    std::int64_t create_run(const NewRun& run);
    /// Marks the run as owned by this process (pid, host) and running.
    void start_run(std::int64_t id);
    void set_status(std::int64_t id, RunStatus status, const std::string& message = {});
    /// Replaces the stored settings (e.g. once a time budget became a step count).
    void set_config(std::int64_t id, const std::string& config_json);

    /// Appends the points in one transaction and updates the latest-value table.
    void append_metrics(std::int64_t id, const std::vector<MetricPoint>& points);
    void add_checkpoint(const CheckpointRecord& c);
    /// Records a compression (replacing any earlier record of the same file
    /// path, which described a file since overwritten); returns its id.
    std::int64_t add_compression(const CompressionRecord& c);
    /// Compressions of run `run_id` (all of them when nullopt), oldest first.
    std::vector<CompressionRecord> compressions(std::optional<std::int64_t> run_id = std::nullopt);
    std::int64_t add_generation(const GenerationRecord& g);
    /// The newest `limit` generations, newest first.
    std::vector<GenerationRecord> generations(std::size_t limit = 100);
    std::int64_t add_served(const ServedRecord& r);
    std::optional<ServedRecord> find_served(std::int64_t id);
    /// Throws itera::Error when `served_id` is unknown or the rating is outside 1..5.
    std::int64_t add_feedback(const FeedbackRecord& f);
    /// Feedback with its served request, newest first; ratings >= `min_rating`.
    std::vector<FeedbackRecord> feedback(int min_rating = 1, std::size_t limit = 100000);
    std::int64_t add_sweep(const SweepRecord& r);
    /// The newest sweep of the file with this hash and these settings.
    std::optional<SweepRecord> find_sweep(const std::string& source_sha256,
                                          const std::string& settings);
    /// Forgets the records of a checkpoint file that was removed or replaced.
    void forget_checkpoint(std::int64_t id, const std::string& path);
    /// Drops metric points after `step` (a run resumed from that step's
    /// checkpoint recomputes them) and rebuilds the latest-value table.
    void truncate_metrics(std::int64_t id, std::int64_t step);

    std::vector<RunRecord> list_runs();
    std::optional<RunRecord> find_run(std::int64_t id);
    /// As find_run; throws itera::Error "no run N in PATH" when absent.
    RunRecord run(std::int64_t id);
    /// Every point of `name` (all names when empty), by step.
    std::vector<MetricPoint> metrics(std::int64_t id, const std::string& name = {});
    /// Every point after `step`, by step: what a viewer of a running run lacks.
    std::vector<MetricPoint> metrics_after(std::int64_t id, std::int64_t step);
    /// Latest value per metric name, without scanning the history.
    std::map<std::string, MetricPoint> latest_metrics(std::int64_t id);
    std::vector<CheckpointRecord> checkpoints(std::int64_t id);

    /// Deletes the run's rows and its folder of files.
    void delete_run(std::int64_t id);
    void add_tag(std::int64_t id, const std::string& tag);
    void remove_tag(std::int64_t id, const std::string& tag);
    void set_notes(std::int64_t id, const std::string& notes);

    /// "ok" or SQLite's list of problems.
    std::string integrity_check();

private:
    std::int64_t insert_compression(const CompressionRecord& c);
    void exec(const std::string& sql);
    void migrate();
    void mark_dead_runs_interrupted();
    sqlite3* db_ = nullptr;
    std::filesystem::path path_;
};

}  // namespace itera
