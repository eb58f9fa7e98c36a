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

#include "compress/compression_report.h"
#include "train/recorder.h"

struct sqlite3;

namespace itera {

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

/// A compressed model made from a checkpoint, with its measured report.
struct CompressionRecord {
    std::int64_t id = 0;
    std::optional<std::int64_t> run_id;  ///< the source checkpoint's run, when it has one
    std::string source_path;
    std::string method;  ///< a scheme name ("int8", ...), "mixed", "prune", ...
    CompressionReport report;
    std::string report_error;  ///< why a stored report could not be read (it is then empty)
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
struct SensitivityRecord {
    std::int64_t id = 0;
    std::optional<std::int64_t> run_id;
    std::string source_path;
    std::string source_sha256;
    std::string settings;  ///< JSON: candidates and calibration (the reuse key)
    std::string sweep;     ///< JSON: every group at every candidate, measured
    std::string created_at;
};

/// A hyperparameter sweep (docs/sweeps.md); its trials are runs.
struct SweepRecord {
    std::int64_t id = 0;
    std::string name;
    std::string status;  ///< running, stopping, stopped, finished, failed, interrupted
    std::string spec;    ///< the spec's JSON, every key explicit
    std::string created_at, ended_at, message;
    double elapsed_s = 0;  ///< the sweep's running time over all its sessions
};

/// One trial of a sweep: a configuration (and seed) trained as run `run_id`.
struct TrialRecord {
    std::int64_t sweep_id = 0;
    std::int64_t trial = 0;  ///< 0-based, in the order trials were sampled
    std::optional<std::int64_t> run_id;
    std::string params;  ///< JSON object: each varied parameter's value, and "seed"
    /// running (a segment in flight to target_step), waiting (at a rung),
    /// completed (its full length), stopped (early, for good), failed
    std::string status = "running";
    std::int64_t target_step = 0;
    std::string reason;            ///< the latest decision, in words
    std::string decisions = "[]";  ///< JSON list: every rung decision with its figures
};

class RunStore {
public:
    /// Opens (creating if needed) and migrates the database at `path`.
    explicit RunStore(const std::filesystem::path& path);
    ~RunStore();
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;

    const std::filesystem::path& path() const { return path_; }
    /// This store's identity (a random hex id made when it was created).
    const std::string& store_id() const { return store_id_; }
    /// Where run `id` keeps its files: <db folder>/runs/<first 8 of the store
    /// id>/<id> (runs made before store ids: <db folder>/runs/<id>).
    std::filesystem::path run_dir(std::int64_t id) const;
    /// Makes sure run `id`'s folder is this run's: creates it with its marker
    /// (run.json: the store id and the run id) when missing; throws
    /// itera::Error saying whose it is when the folder belongs to another
    /// store or run, or holds files without a marker. Returns the folder.
    std::filesystem::path claim_run_dir(std::int64_t id);
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
    std::int64_t add_sensitivity_sweep(const SensitivityRecord& r);
    /// The newest sweep of the file with this hash and these settings.
    std::optional<SensitivityRecord> find_sensitivity_sweep(const std::string& source_sha256,
                                                            const std::string& settings);
    /// A new sweep, running and owned by this process.
    std::int64_t create_sweep(const std::string& name, const std::string& spec_json);
    /// Makes this process the sweep's owner again (resuming it); throws when
    /// another live process runs it.
    void claim_sweep(std::int64_t id);
    void set_sweep_status(std::int64_t id, const std::string& status,
                          const std::string& message = {});
    /// The owner is alive; `elapsed_s`: the sweep's running time so far.
    void sweep_heartbeat(std::int64_t id, double elapsed_s);
    /// Asks the sweep's process to stop (its trials checkpoint first). A sweep
    /// that no live process runs is marked stopped at once. Returns its status.
    std::string request_sweep_stop(std::int64_t id);
    std::optional<SweepRecord> find_sweep(std::int64_t id);
    /// As find_sweep; throws itera::Error "no sweep N in PATH" when absent.
    SweepRecord sweep(std::int64_t id);
    std::vector<SweepRecord> list_sweeps();
    /// Inserts or replaces the trial (sweep_id, trial).
    void put_trial(const TrialRecord& t);
    std::vector<TrialRecord> trials(std::int64_t sweep_id);
    /// The sweep and trial a run belongs to, when it is a trial.
    std::optional<TrialRecord> trial_of_run(std::int64_t run_id);

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
    /// The lowest value of each validation figure of run `id` (val_loss,
    /// val_perplexity, val_bits_per_byte), by name; absent when never measured.
    std::map<std::string, double> best_validation(std::int64_t id);
    std::vector<CheckpointRecord> checkpoints(std::int64_t id);

    /// Deletes the run's rows and its folder of files; a folder that is not
    /// this run's (another store's, or unmarked) is left, and the returned
    /// note says so (empty when everything went).
    std::string delete_run(std::int64_t id);
    void add_tag(std::int64_t id, const std::string& tag);
    void remove_tag(std::int64_t id, const std::string& tag);
    void set_notes(std::int64_t id, const std::string& notes);
    /// Throws itera::Error for an empty (or blank), over-long (> 200 bytes) or
    /// invalid UTF-8 name. The run's folder keeps its name.
    void rename_run(std::int64_t id, const std::string& name);

    /// "ok" or SQLite's list of problems.
    std::string integrity_check();

private:
    std::int64_t insert_compression(const CompressionRecord& c);
    void exec(const std::string& sql);
    void migrate();
    void adopt_legacy_run_dirs();
    void mark_dead_runs_interrupted();
    sqlite3* db_ = nullptr;
    std::filesystem::path path_;
    std::string store_id_;
};

}  // namespace itera
