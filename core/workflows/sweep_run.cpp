#include "workflows/sweep_run.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "data/data_spec.h"
#include "sweep/asha.h"
#include "sweep/samplers.h"
#include "train/train_settings.h"
#include "util/error.h"
#include "workflows/distributed_run.h"
#include "workflows/run_launch.h"

extern char** environ;

namespace itera {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string point_text(const json& point) {
    std::string out;
    for (const auto& [key, v] : point.items()) {
        if (!out.empty()) out += ", ";
        out += parameter_label(key) + "=" + parameter_text(v);
    }
    return out;
}

std::string ordinal(std::int64_t n) {
    const auto tens = n % 100;
    const char* suffix = (tens >= 11 && tens <= 13) ? "th"
                         : n % 10 == 1              ? "st"
                         : n % 10 == 2              ? "nd"
                         : n % 10 == 3              ? "rd"
                                                    : "th";
    return std::to_string(n) + suffix;
}

// A trial's training process: `itera train --resume RUN --until-step S`.
struct Child {
    std::size_t trial = 0;
    pid_t pid = 0;
};

pid_t spawn_trial(const std::vector<std::string>& args, const std::filesystem::path& log) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid = 0;
    const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) throw Error("cannot start " + args[0] + ": " + std::strerror(err));
    return pid;
}

// The sweep's state in memory, written through to the store at every change.
class Coordinator {
public:
    Coordinator(const Workspace& ws, RunStore& store, std::int64_t id,
                const SweepRunOptions& options)
        : ws_(ws), store_(store), id_(id), options_(options) {}

    std::string run();

private:
    void log(const std::string& line) {
        if (options_.log) options_.log(line);
    }
    bool stop_requested();
    double elapsed() const { return elapsed_before_ + seconds_since(session_start_); }
    bool budget_left() const {
        return spec_.total_minutes <= 0 || elapsed() < spec_.total_minutes * 60;
    }
    std::vector<AshaTrial> scheduler_view() const;
    std::vector<SweepObservation> observations() const;
    void start_new_trial();
    void start_segment(std::size_t i, std::int64_t target);
    void finish_segment(std::size_t i, int wait_status);
    void close_waiting_trials();
    void wait_for_orphans();
    std::optional<double> rung_value(std::size_t i, std::int64_t step);
    // A trial's rungs; a time-budgeted trial (steps 0) has one, -1: "wherever it ends".
    std::vector<std::int64_t> rungs_of(std::int64_t steps) const {
        return steps > 0 ? trial_rungs(spec_.rungs, steps) : std::vector<std::int64_t>{-1};
    }
    void record_decision(std::size_t i, const std::string& action, std::int64_t rung);

    const Workspace& ws_;
    RunStore& store_;
    std::int64_t id_;
    SweepRunOptions options_;
    SweepSpec spec_;
    std::string label_;
    DataSpec data_;
    std::optional<ReadyData> ready_;
    std::int64_t vocab_ = 0;
    std::vector<std::size_t> to_resume_;  // trials cut short, resumed before anything new
    int threads_each_ = 1;
    std::vector<TrialRecord> trials_;
    std::vector<std::vector<std::int64_t>> rungs_;  // per trial
    std::vector<std::vector<double>> values_;       // per trial, lower better
    std::vector<Child> children_;
    double elapsed_before_ = 0;
    Clock::time_point session_start_ = Clock::now();
    Clock::time_point last_poll_ = Clock::now();
    bool stopping_ = false;
    bool signalled_ = false;  // the trials were asked once to stop (twice would kill them)
};

bool Coordinator::stop_requested() {
    if (stopping_) return true;
    if (options_.stop && options_.stop->load()) stopping_ = true;
    if (seconds_since(last_poll_) >= 1.0) {
        last_poll_ = Clock::now();
        store_.sweep_heartbeat(id_, elapsed());
        if (store_.sweep(id_).status == "stopping") stopping_ = true;
    }
    return stopping_;
}

std::optional<double> Coordinator::rung_value(std::size_t i, std::int64_t step) {
    if (!trials_[i].run_id) return std::nullopt;
    const auto v = run_objective(store_, *trials_[i].run_id, spec_.metric, spec_.maximize, step);
    if (!v) return std::nullopt;
    return spec_.maximize ? -v->first : v->first;
}

std::vector<AshaTrial> Coordinator::scheduler_view() const {
    std::vector<AshaTrial> out;
    for (std::size_t i = 0; i < trials_.size(); ++i) {
        AshaTrial t;
        t.trial = trials_[i].trial;
        t.rung_steps = rungs_[i];
        t.values = values_[i];
        // Completed where it ended (patience, a time budget): no rung beyond.
        if (trials_[i].status == "completed") t.rung_steps.resize(t.values.size());
        t.running = trials_[i].status == "running";
        // A decision already taken for good stands.
        t.failed = trials_[i].status == "failed" || trials_[i].status == "stopped";
        out.push_back(std::move(t));
    }
    return out;
}

// TPE learns from the highest rung that enough trials reached (at least
// max(4, parameters + 1)); without early stopping that is the final value.
std::vector<SweepObservation> Coordinator::observations() const {
    const std::size_t enough = std::max<std::size_t>(4, spec_.parameters.size() + 1);
    std::size_t rung = 0;
    for (std::size_t k = 0; k < 32; ++k) {
        std::size_t n = 0;
        for (const auto& v : values_) n += v.size() > k;
        if (n >= enough) rung = k;
        if (n == 0) break;
    }
    std::vector<SweepObservation> out;
    for (std::size_t i = 0; i < trials_.size(); ++i) {
        if (values_[i].size() <= rung) continue;
        auto point = json::parse(trials_[i].params);
        point.erase("seed");
        out.push_back({point, values_[i][rung]});
    }
    return out;
}

void Coordinator::start_new_trial() {
    const auto index = static_cast<std::int64_t>(trials_.size());
    const auto config = index / spec_.seeds;
    json point;
    if (index % spec_.seeds == 0) {
        point = sample_configuration(spec_, config, observations());
    } else {
        point = json::parse(trials_[static_cast<std::size_t>(config * spec_.seeds)].params);
        point.erase("seed");
    }
    auto settings_json = trial_settings(spec_.base, point, vocab_);
    const auto seed = settings_json.value("seed", std::uint64_t{0}) +
                      static_cast<std::uint64_t>(index % spec_.seeds);
    settings_json["seed"] = seed;
    const auto settings = TrainSettings::from_json(settings_json.dump());

    TrialRecord t;
    t.sweep_id = id_;
    t.trial = index;
    auto params = point;
    params["seed"] = seed;
    t.params = params.dump();
    t.status = "waiting";
    const auto name = label_ + " · trial " + std::to_string(index + 1) + ": " + point_text(point) +
                      (spec_.seeds > 1 ? ", seed=" + std::to_string(seed) : "");
    // The data was prepared once; each trial's run records it as its own.
    t.run_id = create_training_run(store_, name, settings, data_, *ready_);
    store_.put_trial(t);
    trials_.push_back(t);
    rungs_.push_back(rungs_of(settings.steps));
    values_.emplace_back();
    log("trial " + std::to_string(index + 1) + " (run " + std::to_string(*t.run_id) +
        "): " + point_text(point));
    start_segment(trials_.size() - 1, rungs_.back().front());
}

void Coordinator::start_segment(std::size_t i, std::int64_t target) {
    auto& t = trials_[i];
    const auto run_id = *t.run_id;
    const auto dir = store_.claim_run_dir(run_id);
    std::vector<std::string> args = {itera_executable().string(),
                                     "train",
                                     "--resume",
                                     std::to_string(run_id),
                                     "--threads",
                                     std::to_string(threads_each_),
                                     "--db",
                                     store_.path().string(),
                                     "--quiet",
                                     "--no-baseline",
                                     "--with-parent"};
    if (target > 0) args.insert(args.end(), {"--until-step", std::to_string(target)});
    const auto pid = spawn_trial(args, dir / "sweep-trial.log");
    t.status = "running";
    t.target_step = target;
    store_.put_trial(t);
    children_.push_back({i, pid});
}

void Coordinator::record_decision(std::size_t i, const std::string& action, std::int64_t rung) {
    auto& t = trials_[i];
    const auto all = scheduler_view();
    const auto r = asha_rank(all, i, rung, spec_.reduction);
    const double v = values_[i][static_cast<std::size_t>(rung)];
    const double shown = spec_.maximize ? -v : v;
    const auto step = rungs_[i][static_cast<std::size_t>(rung)];
    auto decisions = json::parse(t.decisions);
    decisions.push_back({{"action", action},
                         {"rung", rung + 1},
                         {"step", step},
                         {"value", shown},
                         {"rank", r.rank + 1},
                         {"of", r.of},
                         {"kept", r.kept()}});
    t.decisions = decisions.dump();
    const auto figure = number_text(shown) + " " + spec_.metric + ", " + ordinal(r.rank + 1) +
                        " of " + std::to_string(r.of) + " at step " + std::to_string(step);
    const auto kept =
        r.kept() == 1 ? std::string("the best") : "the best " + std::to_string(r.kept());
    if (action == "promoted")
        t.reason =
            "went on after " + figure + " (" + kept + (r.kept() == 1 ? " goes" : " go") + " on)";
    else if (r.kept() == 0)
        t.reason = "stopped early: " + figure + "; fewer than " + std::to_string(spec_.reduction) +
                   " trials reached that step, so none went on";
    else
        t.reason = "stopped early: " + figure + "; only " + kept + " went on";
    store_.put_trial(t);
}

void Coordinator::finish_segment(std::size_t i, int wait_status) {
    auto& t = trials_[i];
    const int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    const auto run = t.run_id ? store_.find_run(*t.run_id) : std::nullopt;
    std::int64_t reached = 0;
    if (run) {
        const auto latest = store_.latest_metrics(run->id);
        if (auto it = latest.find("train_loss"); it != latest.end()) reached = it->second.step;
    }
    // A run that finished short of the target (patience stopped it early, or a
    // time budget decided its length) is complete where it ended.
    const bool finished = run && run->status == RunStatus::Finished;
    const bool short_of_target = t.target_step > 0 && reached < t.target_step;
    if (!run) {
        t.status = "failed";
        t.reason = "its run was deleted";
    } else if (stopping_ && !finished && short_of_target) {
        return;  // interrupted by the stop: it stays `running` and resumes
    } else if (!finished && (code != 0 || short_of_target)) {
        t.status = "failed";
        t.reason = !run->message.empty() ? run->message
                   : WIFSIGNALED(wait_status)
                       ? "its process was killed by signal " + std::to_string(WTERMSIG(wait_status))
                       : "its process ended with code " + std::to_string(code) + " at step " +
                             std::to_string(reached);
    } else {
        const auto v = rung_value(i, finished ? -1 : t.target_step);
        if (!v) {
            t.status = "failed";
            t.reason = "no " + spec_.metric + " was recorded up to step " + std::to_string(reached);
        } else {
            values_[i].push_back(*v);
            if (finished) rungs_[i].resize(values_[i].size());
            const bool last = values_[i].size() >= rungs_[i].size();
            t.status = last ? "completed" : "waiting";
            t.reason = last ? "completed" : "at rung " + std::to_string(values_[i].size());
        }
    }
    store_.put_trial(t);
    log("trial " + std::to_string(t.trial + 1) + ": " + t.status +
        (t.reason.empty() || t.status == "completed" ? "" : " (" + t.reason + ")") + " at step " +
        std::to_string(reached));
}

// The sweep is over: a trial still waiting at a rung was not promoted, and
// never will be. Its decision is written down with the figures.
void Coordinator::close_waiting_trials() {
    for (std::size_t i = 0; i < trials_.size(); ++i) {
        if (trials_[i].status != "waiting") continue;
        record_decision(i, "stopped", static_cast<std::int64_t>(values_[i].size()) - 1);
        trials_[i].status = "stopped";
        store_.put_trial(trials_[i]);
        if (trials_[i].run_id) {
            const auto run = store_.find_run(*trials_[i].run_id);
            if (run && run->status == RunStatus::Stopped)
                store_.set_status(run->id, RunStatus::Stopped,
                                  "sweep " + std::to_string(id_) + ": " + trials_[i].reason);
        }
    }
}

// A trial still training in a process of a previous session (its coordinator
// was killed) must end before it is resumed here.
void Coordinator::wait_for_orphans() {
    const auto t0 = Clock::now();
    for (const auto& t : trials_) {
        if (t.status != "running" || !t.run_id) continue;
        while (true) {
            const auto run = store_.find_run(*t.run_id);
            if (!run || (run->status != RunStatus::Running && run->status != RunStatus::Paused))
                break;
            if (seconds_since(t0) > 120)
                throw Error("run " + std::to_string(run->id) + " of trial " +
                            std::to_string(t.trial + 1) +
                            " is still training in another process; stop it first");
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            RunStore fresh(store_.path());  // marks a dead owner's run interrupted
        }
    }
}

std::string Coordinator::run() {
    const auto record = store_.sweep(id_);
    spec_ = SweepSpec::from_json(record.spec);
    label_ = record.name.empty() ? "sweep " + std::to_string(id_) : record.name;
    elapsed_before_ = record.elapsed_s;
    data_ = DataSpec::from_json(spec_.base.value("data", json::object()).dump());
    const int parallel = std::max(1, options_.parallel);
    threads_each_ = threads_per_process(options_.threads, parallel);
    CacheBuildOptions prep;
    prep.threads = options_.threads;
    ready_ = prepare_train_data(ws_, data_, prep);
    vocab_ = ready_->data.tokenizer->vocab_size();
    trials_ = store_.trials(id_);
    for (std::size_t i = 0; i < trials_.size(); ++i) {
        const auto settings_json =
            trial_settings(spec_.base, json::parse(trials_[i].params), vocab_);
        rungs_.push_back(rungs_of(settings_json.at("steps").get<std::int64_t>()));
        std::vector<double> values;
        const auto reached_target =
            trials_[i].status == "running" ? trials_[i].target_step - 1 : trials_[i].target_step;
        for (auto step : rungs_[i]) {
            if (step > reached_target || trials_[i].status == "failed") break;
            if (auto v = rung_value(i, step)) values.push_back(*v);
        }
        values_.push_back(values);
    }
    wait_for_orphans();
    // Segments cut short by a stop or a kill resume first, from their checkpoints.
    for (std::size_t i = 0; i < trials_.size(); ++i)
        if (trials_[i].status == "running" && trials_[i].run_id) to_resume_.push_back(i);

    int failures = 0;
    auto successes =
        std::count_if(values_.begin(), values_.end(), [](const auto& v) { return !v.empty(); });
    std::string first_failure;
    while (true) {
        if (stop_requested() && !signalled_) {
            signalled_ = true;  // each trial checkpoints and ends as `stopped`
            for (const auto& c : children_) kill(c.pid, SIGTERM);
        }
        // Reap the trials that ended.
        for (std::size_t k = 0; k < children_.size();) {
            int status = 0;
            const pid_t got = waitpid(children_[k].pid, &status, WNOHANG);
            if (got != children_[k].pid) {
                ++k;
                continue;
            }
            const auto i = children_[k].trial;
            children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(k));
            finish_segment(i, status);
            if (trials_[i].status == "failed") {
                if (first_failure.empty()) first_failure = trials_[i].reason;
                ++failures;
            } else if (trials_[i].status != "running") {
                ++successes;
            }
        }
        if (stopping_) {
            if (children_.empty()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        // Three failures before any trial got anywhere: the base itself is broken
        // (a missing corpus, too little memory), not one unlucky setting.
        if (failures >= 3 && successes == 0) {
            for (const auto& c : children_) kill(c.pid, SIGTERM);
            for (const auto& c : children_) waitpid(c.pid, nullptr, 0);
            const auto why = "the first three trials failed; the first: " + first_failure;
            store_.set_sweep_status(id_, "failed", why);
            throw Error("sweep " + std::to_string(id_) + ": " + why);
        }
        bool idle = false;
        while (static_cast<int>(children_.size()) < parallel) {
            if (!to_resume_.empty()) {
                const auto i = to_resume_.front();
                to_resume_.erase(to_resume_.begin());
                log("trial " + std::to_string(trials_[i].trial + 1) + " resumes towards step " +
                    std::to_string(trials_[i].target_step));
                start_segment(i, trials_[i].target_step);
                continue;
            }
            const bool more = static_cast<std::int64_t>(trials_.size()) < spec_.trial_count();
            const auto view = scheduler_view();
            auto action = asha_next(view, spec_.reduction, more && budget_left());
            if (!budget_left() && action.kind == AshaAction::Kind::Promote)
                action.kind = children_.empty() ? AshaAction::Kind::Done : AshaAction::Kind::Wait;
            if (action.kind == AshaAction::Kind::Promote) {
                const auto i = static_cast<std::size_t>(action.trial);
                record_decision(i, "promoted", action.rung - 1);
                log("trial " + std::to_string(trials_[i].trial + 1) + " " + trials_[i].reason);
                start_segment(i, rungs_[i][static_cast<std::size_t>(action.rung)]);
            } else if (action.kind == AshaAction::Kind::Start) {
                start_new_trial();
            } else {
                idle = action.kind == AshaAction::Kind::Done;
                break;
            }
        }
        if (idle && children_.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    store_.sweep_heartbeat(id_, elapsed());
    if (stopping_) {
        store_.set_sweep_status(id_, "stopped",
                                "stopped; resume with itera sweep resume " + std::to_string(id_));
        return "stopped";
    }
    close_waiting_trials();
    const bool spent = !budget_left();
    store_.set_sweep_status(id_, "finished",
                            spent && static_cast<std::int64_t>(trials_.size()) < spec_.trial_count()
                                ? "the budget of " + number_text(spec_.total_minutes) +
                                      " minutes was spent after " + std::to_string(trials_.size()) +
                                      " trials"
                                : "");
    return "finished";
}

}  // namespace

std::int64_t create_sweep(RunStore& store, const SweepSpec& spec) {
    return store.create_sweep(spec.name, spec.to_json());
}

std::string run_sweep(const Workspace& ws, RunStore& store, std::int64_t id,
                      const SweepRunOptions& options) {
    store.claim_sweep(id);
    Coordinator c(ws, store, id, options);
    try {
        return c.run();
    } catch (const std::exception& e) {
        const auto now = store.sweep(id);
        if (now.status == "running" || now.status == "stopping")
            store.set_sweep_status(id, "failed", e.what());
        throw;
    }
}

}  // namespace itera
