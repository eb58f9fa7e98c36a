#pragma once
// What starting a data-parallel run takes beyond the trainer
// (docs/distributed.md): rank 0 publishes the run it created or resumed in the
// rendezvous store, and the other ranks take it from there; on one machine,
// rank 0 starts them as `itera` processes. Shared by the CLI and the workbench.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "data/data_spec.h"
#include "train/train_settings.h"

namespace itera {

class GlooGroup;  // train/gloo_group.h (LibTorch's c10d): only its users include it

/// Threads per process when `nproc` processes share this machine and the user
/// gave `threads` per process (0: the cores divided between the processes).
int threads_per_process(int threads, int nproc);

/// Ranks 1..N-1 started by rank 0 on this machine, as child processes.
class LocalRanks {
public:
    LocalRanks() = default;
    LocalRanks(const LocalRanks&) = delete;
    LocalRanks& operator=(const LocalRanks&) = delete;
    /// Kills the ranks still running.
    ~LocalRanks();
    /// Starts `exe ARGS... --dist 127.0.0.1:PORT --rank R --world-size NPROC` for
    /// R = 1 .. nproc-1 (ARGS: the command and its options), stdout discarded.
    void start(const std::filesystem::path& exe, int nproc, int port,
               const std::vector<std::string>& args);
    /// Variables added to the ranks' environment ("NAME=value").
    void set_environment(std::vector<std::string> variables) { env_ = std::move(variables); }
    /// "rank R (pid P) was killed by signal 9 (Killed)" for a rank that ended
    /// with an error (waiting up to `wait_s` for one to end), or "".
    std::string ended_rank(double wait_s = 2.0);
    /// Waits for every rank; after `grace_s` seconds the rest are killed.
    /// Returns false if one ended with an error (exit code other than 0 or 130).
    bool wait(double grace_s);
    /// The process ids, rank 1 first.
    std::vector<pid_t> pids() const;

private:
    struct Child {
        int rank;
        pid_t pid;
        bool done = false;
        int status = 0;
    };
    std::vector<Child> children_;
    std::vector<std::string> env_;
    void reap(Child& c, bool block);
};

/// The `itera` executable: $ITERA_CLI when set (tests, build trees), else the
/// one next to this process's (the CLI itself, or the workbench installed
/// beside it); throws naming the path when it is not there.
std::filesystem::path itera_executable();

/// Rank 0's publication of the run for the others.
void publish_run(GlooGroup& group, std::int64_t run_id, const TrainSettings& settings,
                 const DataSpec& spec, const std::string& tokenizer_fingerprint);
/// Rank 0 failed before it could publish the run: tells the others why.
void publish_failure(GlooGroup& group, const std::string& why) noexcept;

struct PublishedRun {
    std::int64_t run_id = 0;
    TrainSettings settings;
    DataSpec spec;
    std::string tokenizer_fingerprint;
};
/// A rank above 0: waits for rank 0's publication (however long rank 0 takes
/// to prepare the data; its death ends the wait). Throws rank 0's failure.
PublishedRun take_published_run(GlooGroup& group);

}  // namespace itera
