// `itera sweep`: many runs as one experiment (docs/sweeps.md).

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "args.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "report/sweep_view.h"
#include "util/error.h"
#include "util/read_file.h"
#include "workflows/sweep_run.h"

namespace itera::cli {
namespace {

constexpr const char* kSweepUsage = R"(usage:
  itera sweep start SPEC.json [--parallel N] [--threads N] [--db PATH]
  itera sweep resume ID [--parallel N] [--threads N]
  itera sweep list [--json]
  itera sweep show ID [--json]
  itera sweep stop ID

Trains many runs as one experiment: the spec (docs/sweeps.md) names a base
training config, the parameters to vary (lists of values, or ranges sampled
uniformly or log-uniformly), the method (grid, random or tpe), the objective
(default: validation bits/byte, minimised), seeds, ASHA early stopping (rungs
in steps and a reduction factor) and a total budget in minutes. Every trial is
an ordinary run in the run store. Ctrl-C stops the sweep after each running
trial checkpoints; `itera sweep resume ID` goes on where it was, and so does a
sweep whose process was killed.

  --parallel N   trials trained at once (default 1), the threads divided
  --threads N    threads for all of them together (default: all cores)

Example spec:
  {"name": "dropout and lr", "base": {"preset": "mini", "data": {"corpus": "moby-dick"},
   "steps": 1200, "eval_every": 100},
   "parameters": {"dropout": {"values": [0, 0.1, 0.2]},
                  "lr": {"range": [0.0005, 0.005], "scale": "log"}},
   "method": "random", "configurations": 16,
   "early_stopping": {"rungs": [150, 450], "reduction": 3}}

Examples:
  itera sweep start sweep.json
  itera sweep show 1
  itera report --sweep 1
)";

std::atomic<bool> g_stop{false};

extern "C" void on_sweep_interrupt(int signal) {
    g_stop = true;                 // lock-free atomic store: async-signal-safe
    std::signal(signal, SIG_DFL);  // a second Ctrl-C ends the process at once
}

std::int64_t sweep_id(const std::vector<std::string>& pos) {
    if (pos.size() < 2) throw Error("a sweep ID is required (see itera sweep list)");
    return parse_run_id(pos[1]);
}

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

int run(const Workspace& ws, RunStore& store, std::int64_t id, Args& a) {
    SweepRunOptions options;
    options.parallel = static_cast<int>(a.integer_or("parallel", 1, 1, 64));
    options.threads = static_cast<int>(a.integer_or("threads", 0, 0, 4096));
    a.finish();
    options.stop = &g_stop;
    options.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    for (int s : {SIGINT, SIGTERM}) std::signal(s, on_sweep_interrupt);
    std::fprintf(stderr, "sweep %lld: %d trial(s) at once\n", static_cast<long long>(id),
                 options.parallel);
    const auto status = run_sweep(ws, store, id, options);
    for (int s : {SIGINT, SIGTERM}) std::signal(s, SIG_DFL);
    const auto view = sweep_view(store, id);
    std::printf("sweep %lld %s%s%s\n", static_cast<long long>(id), status.c_str(),
                view.record.message.empty() ? "" : ": ", view.record.message.c_str());
    if (view.best) {
        const auto& b = view.trials[*view.best];
        std::printf("best: trial %lld (run %lld), %s %.4f at step %lld\n",
                    static_cast<long long>(b.record.trial + 1),
                    static_cast<long long>(b.record.run_id.value_or(0)), view.spec.metric.c_str(),
                    *b.objective, static_cast<long long>(b.best_step));
    }
    return status == "stopped" ? 130 : 0;
}

nlohmann::ordered_json view_json(const SweepView& v) {
    nlohmann::ordered_json j;
    j["id"] = v.record.id;
    j["name"] = v.record.name;
    j["status"] = v.record.status;
    j["message"] = v.record.message;
    j["elapsed_s"] = v.record.elapsed_s;
    j["metric"] = v.spec.metric;
    j["best_trial"] = v.best ? nlohmann::json(v.trials[*v.best].record.trial + 1) : nullptr;
    auto& trials = j["trials"] = nlohmann::ordered_json::array();
    for (const auto& t : v.trials) {
        nlohmann::ordered_json o;
        o["trial"] = t.record.trial + 1;
        o["run_id"] = t.record.run_id ? nlohmann::json(*t.record.run_id) : nullptr;
        o["params"] = t.params;
        o["seed"] = t.seed;
        o["objective"] = t.objective ? nlohmann::json(*t.objective) : nullptr;
        o["best_step"] = t.best_step;
        o["steps"] = t.steps_done;
        o["status"] = t.record.status;
        o["reason"] = t.record.reason;
        o["decisions"] = nlohmann::json::parse(t.record.decisions);
        trials.push_back(o);
    }
    return j;
}

void print_view(const SweepView& v) {
    const auto& s = v.spec;
    std::printf("sweep %lld%s%s: %s, %s, %lld trial(s) of %lld, running time %.0f s\n",
                static_cast<long long>(v.record.id), v.record.name.empty() ? "" : " ",
                v.record.name.c_str(), v.record.status.c_str(), sweep_method_name(s.method).c_str(),
                static_cast<long long>(v.trials.size()), static_cast<long long>(s.trial_count()),
                v.record.elapsed_s);
    if (!v.record.message.empty()) std::printf("  %s\n", v.record.message.c_str());
    std::printf("objective: %s (%s)", s.metric.c_str(), s.maximize ? "maximize" : "minimize");
    if (s.early_stopping()) {
        std::printf("; ASHA rungs at");
        for (auto r : s.rungs) std::printf(" %lld", static_cast<long long>(r));
        std::printf(" steps, the best 1/%lld go on", static_cast<long long>(s.reduction));
    }
    std::printf("\n\n");
    std::string header = pad("trial", 6) + pad("run", 6);
    for (const auto& p : s.parameters) header += pad(parameter_label(p.name), 14);
    if (s.seeds > 1) header += pad("seed", 6);
    header += pad("objective", 11) + pad("best@", 7) + pad("steps", 7) + pad("status", 11) + "why";
    std::printf("%s\n", header.c_str());
    for (std::size_t i = 0; i < v.trials.size(); ++i) {
        const auto& t = v.trials[i];
        std::string line = pad(std::to_string(t.record.trial + 1) + (v.best == i ? "*" : ""), 6) +
                           pad(t.record.run_id ? std::to_string(*t.record.run_id) : "-", 6);
        for (const auto& p : s.parameters)
            line += pad(t.params.contains(p.name) ? parameter_text(t.params[p.name]) : "-", 14);
        if (s.seeds > 1) line += pad(std::to_string(t.seed), 6);
        char obj[32] = "-";
        if (t.objective) std::snprintf(obj, sizeof obj, "%.4f", *t.objective);
        line += pad(obj, 11) + pad(t.best_step >= 0 ? std::to_string(t.best_step) : "-", 7) +
                pad(std::to_string(t.steps_done), 7) + pad(t.record.status, 11) +
                (t.record.status == "completed" ? "" : t.record.reason);
        std::printf("%s\n", line.c_str());
    }
    if (s.seeds > 1) {
        std::printf("\nover seeds (mean ± sample std of the objective):\n");
        for (const auto& c : summarize_configurations(v)) {
            std::string params;
            for (const auto& [k, val] : c.params.items())
                params +=
                    (params.empty() ? "" : ", ") + parameter_label(k) + "=" + parameter_text(val);
            if (c.measured)
                std::printf("  %-50s %.4f ± %.4f (%zu of %zu)\n", params.c_str(), c.mean, c.stddev,
                            c.measured, c.trials.size());
            else
                std::printf("  %-50s -\n", params.c_str());
        }
    }
    if (v.best) {
        const auto& b = v.trials[*v.best];
        std::printf("\nbest: trial %lld (run %lld): %.4f at step %lld; itera runs show %lld\n",
                    static_cast<long long>(b.record.trial + 1),
                    static_cast<long long>(b.record.run_id.value_or(0)), *b.objective,
                    static_cast<long long>(b.best_step),
                    static_cast<long long>(b.record.run_id.value_or(0)));
    }
}

}  // namespace

int sweep_command(const std::vector<std::string>& args) {
    Args a(args, {"help", "json"});
    if (a.flag("help") || a.positional().empty()) {
        std::cout << kSweepUsage;
        return a.flag("help") ? 0 : 2;
    }
    const auto& pos = a.positional();
    const auto& verb = pos[0];
    const auto ws = workspace_of(a.text("db"));
    if (verb == "start") {
        if (pos.size() != 2) throw Error("itera sweep start takes one spec file");
        std::string text;
        try {
            text = read_file(pos[1]);
        } catch (const std::exception& e) {
            throw Error(pos[1] + ": " + e.what());
        }
        SweepSpec spec;
        try {
            spec = SweepSpec::from_json(text);
        } catch (const Error& e) {
            throw Error(pos[1] + ": " + e.what());
        }
        RunStore store(ws.db_path);
        const auto id = create_sweep(store, spec);
        std::fprintf(stderr,
                     "sweep %lld created: %lld trial(s), resume it with itera sweep resume %lld\n",
                     static_cast<long long>(id), static_cast<long long>(spec.trial_count()),
                     static_cast<long long>(id));
        return run(ws, store, id, a);
    }
    if (verb == "resume") {
        const auto id = sweep_id(pos);
        RunStore store(ws.db_path);
        return run(ws, store, id, a);
    }
    const bool json = a.flag("json");
    a.finish();
    RunStore store(ws.db_path);
    if (verb == "list") {
        if (pos.size() != 1) throw Error("itera sweep list takes no argument");
        nlohmann::ordered_json j = nlohmann::ordered_json::array();
        if (!json)
            std::printf("%-5s %-12s %-8s %-7s %-11s %s\n", "id", "status", "method", "trials",
                        "best", "name");
        for (const auto& r : store.list_sweeps()) {
            const auto v = sweep_view(store, r.id);
            const auto best = v.best ? *v.trials[*v.best].objective : NAN;
            if (json) {
                j.push_back({{"id", r.id},
                             {"name", r.name},
                             {"status", r.status},
                             {"method", sweep_method_name(v.spec.method)},
                             {"trials", v.trials.size()},
                             {"best", v.best ? nlohmann::json(best) : nullptr},
                             {"created_at", r.created_at}});
            } else {
                char b[32] = "-";
                if (v.best) std::snprintf(b, sizeof b, "%.4f", best);
                std::printf(
                    "%-5lld %-12s %-8s %-7s %-11s %s\n", static_cast<long long>(r.id),
                    r.status.c_str(), sweep_method_name(v.spec.method).c_str(),
                    (std::to_string(v.trials.size()) + "/" + std::to_string(v.spec.trial_count()))
                        .c_str(),
                    b, r.name.c_str());
            }
        }
        if (json) std::cout << j.dump(2) << "\n";
        return 0;
    }
    if (verb == "show") {
        const auto v = sweep_view(store, sweep_id(pos));
        if (json)
            std::cout << view_json(v).dump(2) << "\n";
        else
            print_view(v);
        return 0;
    }
    if (verb == "stop") {
        const auto id = sweep_id(pos);
        const auto status = store.request_sweep_stop(id);
        if (status == "stopping")
            std::printf("sweep %lld: asked to stop; its trials checkpoint first\n",
                        static_cast<long long>(id));
        else
            std::printf("sweep %lld is %s\n", static_cast<long long>(id), status.c_str());
        return 0;
    }
    throw Error("unknown sweep command \"" + verb + "\" (start, resume, list, show, stop)");
}

}  // namespace itera::cli
