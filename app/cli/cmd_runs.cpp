// `itera runs`: list, inspect, export, tag, annotate and delete stored runs.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "args.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "store/run_store.h"
#include "util/error.h"

namespace itera::cli {
namespace {

constexpr const char* kRunsUsage = R"(usage:
  itera runs list                     every run: status, steps, latest losses
  itera runs show ID                  settings, data, versions, checkpoints, latest metrics
  itera runs metrics ID [--name NAME] [--csv]   every metric point (CSV: step,tokens,wall_s,name,value)
  itera runs delete ID                the run, its metrics and its folder of checkpoints
  itera runs tag ID TAG
  itera runs note ID TEXT
  itera runs rename ID NAME           the run's name (its folder keeps its own)
  itera runs check                    SQLite integrity check of the run store
Options: --db PATH (default: the data directory's runs.sqlite)

Examples:
  itera runs list
  itera runs metrics 3 --name val_bits_per_byte --csv > run3-bpb.csv
  itera runs tag 3 baseline
)";

std::int64_t run_id(const std::vector<std::string>& pos, std::size_t index) {
    if (pos.size() <= index) throw Error("a run ID is required (see itera runs list)");
    return parse_run_id(pos[index]);
}

std::string value_or_dash(const std::map<std::string, MetricPoint>& m, const std::string& name,
                          const char* format) {
    auto it = m.find(name);
    if (it == m.end()) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, format, it->second.value);
    return buf;
}

int list(RunStore& store) {
    const auto runs = store.list_runs();
    if (runs.empty()) {
        std::printf("no runs in %s (start one with itera train)\n", store.path().c_str());
        return 0;
    }
    std::printf("%-5s %-12s %-24s %-8s %9s %8s %8s %9s %7s  %s\n", "id", "status", "name", "preset",
                "steps", "train", "val", "val ppl", "bpb", "created");
    for (const auto& r : runs) {
        const auto m = store.latest_metrics(r.id);
        auto steps = m.count("train_loss") ? std::to_string(m.at("train_loss").step) : "0";
        std::string name = r.name.size() > 24 ? r.name.substr(0, 23) + "~" : r.name;
        std::string tags;
        for (const auto& t : r.tags) tags += (tags.empty() ? "  [" : ", ") + t;
        if (!tags.empty()) tags += "]";
        std::printf("%-5lld %-12s %-24s %-8s %9s %8s %8s %9s %7s  %s%s\n", (long long)r.id,
                    run_status_name(r.status).c_str(), name.c_str(), r.preset.c_str(),
                    steps.c_str(), value_or_dash(m, "train_loss", "%.4f").c_str(),
                    value_or_dash(m, "val_loss", "%.4f").c_str(),
                    value_or_dash(m, "val_perplexity", "%.2f").c_str(),
                    value_or_dash(m, "val_bits_per_byte", "%.3f").c_str(), r.created_at.c_str(),
                    tags.c_str());
    }
    return 0;
}

int show(RunStore& store, std::int64_t id) {
    const auto r = store.run(id);
    std::printf("run         %lld  %s\n", (long long)r.id, r.name.c_str());
    std::printf("status      %s%s%s\n", run_status_name(r.status).c_str(),
                r.message.empty() ? "" : ": ", r.message.c_str());
    std::printf("created     %s\nstarted     %s\nended       %s\n", r.created_at.c_str(),
                r.started_at.empty() ? "-" : r.started_at.c_str(),
                r.ended_at.empty() ? "-" : r.ended_at.c_str());
    std::printf("preset      %s\nseed        %llu\n", r.preset.c_str(), (unsigned long long)r.seed);
    if (!r.parent_relation.empty()) {
        const std::string of = r.parent_run_id ? "run " + std::to_string(*r.parent_run_id)
                                               : std::string("a model outside the store");
        if (r.parent_relation == "teacher")
            std::printf("distilled   teacher: %s, %s\n", of.c_str(), r.parent_checkpoint.c_str());
        else
            std::printf(
                "started     from %s (%s of %s)\n", r.parent_checkpoint.c_str(),
                r.parent_relation == "adapt" ? "adapted from feedback, a fine-tune" : "fine-tune",
                of.c_str());
    }
    std::printf("tokenizer   %s\n", r.tokenizer.c_str());
    std::printf("built with  %s (git %s)\n", r.library_versions.c_str(), r.git_revision.c_str());
    std::string tags;
    for (const auto& t : r.tags) tags += (tags.empty() ? "" : ", ") + t;
    std::printf("tags        %s\n", tags.empty() ? "-" : tags.c_str());
    std::printf("notes       %s\n", r.notes.empty() ? "-" : r.notes.c_str());
    std::printf("folder      %s\n", store.run_dir(id).c_str());
    std::printf("data        %s\n", r.dataset.c_str());
    std::printf("settings    %s\n", r.config_json.c_str());
    std::printf("latest metrics:\n");
    const auto latest = store.latest_metrics(id);
    for (const bool experts : {false, true})  // expert loads last
        for (const auto& [name, p] : latest)
            if ((name.rfind("expert_load.", 0) == 0) == experts)
                std::printf("  %-20s %-12.6g (step %lld)\n", name.c_str(), p.value,
                            (long long)p.step);
    std::printf("checkpoints:\n");
    for (const auto& c : store.checkpoints(id)) {
        char val[32] = "-";
        if (c.val_loss) std::snprintf(val, sizeof val, "%.4f", *c.val_loss);
        std::printf("  %-6s step %-8lld val %-8s %s bytes  sha256 %s\n    %s\n", c.kind.c_str(),
                    (long long)c.step, val, with_commas(c.bytes).c_str(), c.sha256.c_str(),
                    c.path.c_str());
    }
    const auto comps = store.compressions(id);
    if (!comps.empty()) std::printf("compressions:\n");
    for (const auto& c : comps) {
        char quality[96] = "";
        if (const auto& q = c.report.quality)
            std::snprintf(quality, sizeof quality, "  ppl %.3f (%+.2f%%)  KLD %.5f  top-1 %.2f%%",
                          q->perplexity, q->delta_ppl_pct, q->kld, 100.0 * q->top1_agreement);
        const double ratio = c.report.ratio;
        std::printf("  #%-4lld %-5s %s bytes (%.2fx)%s\n    %s\n", (long long)c.id,
                    c.method.c_str(), with_commas(c.bytes).c_str(), ratio, quality, c.path.c_str());
    }
    return 0;
}

int metrics(RunStore& store, std::int64_t id, const std::string& name, bool csv) {
    store.run(id);
    const auto points = store.metrics(id, name);
    if (csv) std::printf("step,tokens,wall_s,name,value\n");
    for (const auto& p : points)
        std::printf(csv ? "%lld,%lld,%.3f,%s,%.9g\n" : "%-8lld %-12lld %10.3f  %-20s %.9g\n",
                    (long long)p.step, (long long)p.tokens, p.wall_s, p.name.c_str(), p.value);
    return 0;
}

}  // namespace

int runs_command(const std::vector<std::string>& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << kRunsUsage;
        return args.empty() ? 2 : 0;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    Args a(rest, {"help", "csv"});
    if (a.flag("help")) {
        std::cout << kRunsUsage;
        return 0;
    }
    const auto db = a.text("db");
    const auto& pos = a.positional();
    const auto& sub = args[0];
    const bool csv = sub == "metrics" && a.flag("csv");
    const auto name = sub == "metrics" ? a.text_or("name", "") : std::string();
    a.finish();
    RunStore store(workspace_of(db).db_path);
    auto expect_args = [&](std::size_t n) {
        if (pos.size() != n)
            throw Error("itera runs " + sub + " takes " + std::to_string(n) +
                        " argument(s) (see itera runs --help)");
    };
    if (sub == "list") return expect_args(0), list(store);
    if (sub == "show") return expect_args(1), show(store, run_id(pos, 0));
    if (sub == "metrics") return expect_args(1), metrics(store, run_id(pos, 0), name, csv);
    if (sub == "delete") {
        expect_args(1);
        const auto note = store.delete_run(run_id(pos, 0));
        std::printf("deleted run %s\n", pos[0].c_str());
        if (!note.empty())
            std::fprintf(stderr, "itera: run %s: %s\n", pos[0].c_str(), note.c_str());
        return 0;
    }
    if (sub == "tag") return expect_args(2), store.add_tag(run_id(pos, 0), pos[1]), 0;
    if (sub == "note") return expect_args(2), store.set_notes(run_id(pos, 0), pos[1]), 0;
    if (sub == "rename") return expect_args(2), store.rename_run(run_id(pos, 0), pos[1]), 0;
    if (sub == "check") {
        expect_args(0);
        const auto result = store.integrity_check();
        std::printf("%s\n", result.c_str());
        return result == "ok" ? 0 : 1;
    }
    throw Error("unknown runs subcommand \"" + sub +
                "\" (expected list, show, metrics, delete, tag, note, rename or check)");
}

}  // namespace itera::cli
