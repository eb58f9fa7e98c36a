#include "workflows/distributed_run.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "train/gloo_group.h"
#include "util/error.h"
#include "util/threads.h"

extern char** environ;

namespace itera {
namespace {

const char* kRunKey = "itera/run";
// A rank waits this long for rank 0 to prepare the data (tokenizer training on
// a large corpus); if rank 0 dies meanwhile, the store's connection tells it.
constexpr double kPrepareTimeout_s = 24 * 3600;

}  // namespace

int threads_per_process(int threads, int nproc) {
    if (threads > 0) return threads;
    return std::max(1, default_thread_count() / std::max(1, nproc));
}

LocalRanks::~LocalRanks() {
    try {
        wait(0);
    } catch (...) {
    }
}

std::vector<pid_t> LocalRanks::pids() const {
    std::vector<pid_t> out;
    for (const auto& c : children_) out.push_back(c.pid);
    return out;
}

std::filesystem::path itera_executable() {
    if (const char* given = std::getenv("ITERA_CLI")) return given;  // tests, build trees
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error("cannot find this program's path (/proc/self/exe): " + ec.message());
    const auto itera = self.parent_path() / "itera";
    if (!std::filesystem::exists(itera, ec))
        throw Error("several processes need the itera command beside this program, and " +
                    itera.string() + " does not exist");
    return itera;
}

void LocalRanks::start(const std::filesystem::path& exe, int nproc, int port,
                       const std::vector<std::string>& tail) {
    for (int rank = 1; rank < nproc; ++rank) {
        std::vector<std::string> args = {exe.string()};
        args.insert(args.end(), tail.begin(), tail.end());
        args.insert(args.end(), {"--dist", "127.0.0.1:" + std::to_string(port), "--rank",
                                 std::to_string(rank), "--world-size", std::to_string(nproc)});
        std::vector<char*> argv;
        for (auto& s : args) argv.push_back(s.data());
        argv.push_back(nullptr);
        // posix_spawn: safe from a process with threads (the workbench).
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        // This process's environment, with env_'s variables replacing theirs.
        std::vector<std::string> env_text = env_;
        for (char** e = environ; *e; ++e) {
            const std::string var = *e;
            const auto name = var.substr(0, var.find('=') + 1);
            if (std::none_of(env_.begin(), env_.end(),
                             [&](const std::string& v) { return v.rfind(name, 0) == 0; }))
                env_text.push_back(var);
        }
        std::vector<char*> envp;
        for (auto& v : env_text) envp.push_back(v.data());
        envp.push_back(nullptr);
        pid_t pid = 0;
        const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        if (err != 0)
            throw Error("cannot start rank " + std::to_string(rank) + " (" + exe.string() +
                        "): " + std::strerror(err));
        children_.push_back({rank, pid});
    }
}

void LocalRanks::reap(Child& c, bool block) {
    if (c.done) return;
    int status = 0;
    const pid_t got = waitpid(c.pid, &status, block ? 0 : WNOHANG);
    if (got == c.pid) {
        c.done = true;
        c.status = status;
    }
}

std::string LocalRanks::ended_rank(double wait_s) {
    // A killed rank's connections close before it can be reaped: give it a moment.
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_s);
    for (;;) {
        for (auto& c : children_) {
            reap(c, false);
            if (!c.done) continue;
            const std::string who =
                "rank " + std::to_string(c.rank) + " (pid " + std::to_string(c.pid) + ")";
            if (WIFSIGNALED(c.status))
                return who + " was killed by signal " + std::to_string(WTERMSIG(c.status)) + " (" +
                       strsignal(WTERMSIG(c.status)) + ")";
            if (WIFEXITED(c.status) && WEXITSTATUS(c.status) != 0)
                return who + " exited with code " + std::to_string(WEXITSTATUS(c.status));
        }
        if (std::chrono::steady_clock::now() >= until) return "";
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool LocalRanks::wait(double grace_s) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
    for (;;) {
        bool all = true;
        for (auto& c : children_) {
            reap(c, false);
            all = all && c.done;
        }
        if (all || std::chrono::steady_clock::now() >= until) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    bool ok = true;
    for (auto& c : children_) {
        if (!c.done) {
            kill(c.pid, SIGKILL);
            reap(c, true);
            ok = false;
        }
        const int code = WIFEXITED(c.status) ? WEXITSTATUS(c.status) : -1;
        if (code != 0 && code != 130) ok = false;
    }
    children_.clear();
    return ok;
}

void publish_run(GlooGroup& group, std::int64_t run_id, const TrainSettings& settings,
                 const DataSpec& spec, const std::string& tokenizer_fingerprint) {
    nlohmann::json j = {{"run_id", run_id},
                        {"settings", nlohmann::json::parse(settings.to_json())},
                        {"data", nlohmann::json::parse(spec.to_json())},
                        {"tokenizer", tokenizer_fingerprint}};
    group.publish(kRunKey, j.dump());
}

void publish_failure(GlooGroup& group, const std::string& why) noexcept {
    try {
        group.publish(kRunKey, nlohmann::json{{"error", why}}.dump());
    } catch (const std::exception&) {
        // nobody to tell
    }
}

PublishedRun take_published_run(GlooGroup& group) {
    nlohmann::json run;
    try {
        run = nlohmann::json::parse(group.fetch(kRunKey, kPrepareTimeout_s));
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string("distributed: rank 0 published an unreadable run: ") + e.what());
    }
    if (run.contains("error"))
        throw Error("rank 0 could not start the run: " + run["error"].get<std::string>());
    PublishedRun r;
    try {
        r.run_id = run.at("run_id").get<std::int64_t>();
        r.settings = TrainSettings::from_json(run.at("settings").dump());
        r.spec = DataSpec::from_json(run.at("data").dump());
        r.tokenizer_fingerprint = run.at("tokenizer").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string("distributed: rank 0 published an unreadable run: ") + e.what());
    }
    return r;
}

}  // namespace itera
