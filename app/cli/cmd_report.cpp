// `itera report`: a Markdown report of a run, of several runs side by side, or
// of every compression of a checkpoint, with its charts as PNG files beside it.

#include <cstdio>
#include <iostream>

#include "args.h"
#include "checkpoint_arg.h"
#include "commands.h"
#include "report/report.h"
#include "store/run_store.h"
#include "util/error.h"

namespace itera::cli {
namespace {

constexpr const char* kReportUsage = R"(usage:
  itera report RUN_ID [--out FILE.md]                  one run: data, model, summary, curves,
                                                      checkpoints, compressions, comparisons, notes
  itera report --compare ID,ID[,ID...] [--out FILE.md] runs side by side, curves overlaid
  itera report --compression CKPT|run:ID [--out FILE.md]  every stored compression of a checkpoint
  itera report --sweep ID [--out FILE.md]          a sweep: trials, stopping decisions, charts
Options:
  --out FILE.md   where to write (default: run-ID-report.md, compare-ID-ID.md,
                  sweep-ID-report.md or compression-NAME.md in the current folder); the charts are written next
                  to it as FILE-loss.png, ... and linked by relative path
  --db PATH       the run store (default: the data directory's runs.sqlite)
Every figure comes from the run store: metrics, checkpoints, measured compressions and
saved playground generations.

Examples:
  itera report 3 --out reports/run3.md
  itera report --compare 3,4 --out reports/compare.md
  itera report --compression run:3
  itera report --sweep 1
)";

std::vector<std::int64_t> parse_ids(const std::string& list) {
    std::vector<std::int64_t> ids;
    std::size_t start = 0;
    while (start <= list.size()) {
        auto end = list.find(',', start);
        if (end == std::string::npos) end = list.size();
        ids.push_back(parse_run_id(list.substr(start, end - start)));
        start = end + 1;
    }
    return ids;
}

}  // namespace

int report_command(const std::vector<std::string>& args) {
    Args a(args, {"help"});
    if (a.flag("help")) {
        std::cout << kReportUsage;
        return 0;
    }
    const auto compare = a.text("compare");
    const auto compression = a.text("compression");
    const auto sweep = a.text("sweep");
    const auto out_arg = a.text("out");
    const auto db_arg = a.text("db");
    a.finish();
    const auto& pos = a.positional();
    const int kinds =
        (compare ? 1 : 0) + (compression ? 1 : 0) + (sweep ? 1 : 0) + (pos.empty() ? 0 : 1);
    if (kinds != 1 || pos.size() > 1)
        throw Error(
            "itera report takes one run ID, --compare ID,ID, --compression CKPT or --sweep ID "
            "(see itera report --help)");
    const auto db = workspace_of(db_arg).db_path;
    if (!std::filesystem::exists(db))
        throw Error("no run store at " + db.string() + " (train a model first, or pass --db)");
    RunStore store(db);

    std::filesystem::path out;
    ReportOptions options;
    Report report;
    auto choose_out = [&](const std::string& fallback) {
        out = out_arg ? std::filesystem::path(*out_arg) : std::filesystem::path(fallback);
        if (out.extension() != ".md")
            throw Error("--out " + out.string() + ": expected a .md file name");
        options.image_prefix = image_prefix_for(out);
    };
    if (compare) {
        const auto ids = parse_ids(*compare);
        std::string name = "compare";
        for (auto id : ids) name += "-" + std::to_string(id);
        choose_out(name + ".md");
        report = compare_report(store, ids, options);
    } else if (sweep) {
        const auto id = parse_run_id(*sweep);
        choose_out("sweep-" + std::to_string(id) + "-report.md");
        report = sweep_report(store, id, options);
    } else if (compression) {
        const auto ckpt = resolve_checkpoint(*compression, db.string());
        choose_out("compression-" + ckpt.parent_path().filename().string() + "-" +
                   ckpt.stem().string() + ".md");
        report = compression_report(store, ckpt, options);
    } else {
        const auto id = parse_run_id(pos[0]);
        choose_out("run-" + std::to_string(id) + "-report.md");
        report = run_report(store, id, options);
    }
    write_report(report, out);
    std::printf("wrote %s", out.string().c_str());
    for (const auto& image : report.images) std::printf(", %s", image.file_name.c_str());
    std::printf("\n");
    return 0;
}

}  // namespace itera::cli
