#include <cmath>
#include <set>

#include "model/tensor_names.h"
#include "report/markdown.h"
#include "report/sections.h"
#include "util/error.h"

namespace itera {
namespace {

using namespace report_detail;

std::string setting(const RunFacts& f, const char* key) {
    if (!f.config.is_object() || !f.config.contains(key)) return "–";
    const auto& v = f.config[key];
    return v.is_string() ? md::escape(v.get<std::string>()) : md::escape(v.dump());
}

std::string data_value(const RunFacts& f, const char* key) {
    if (!f.dataset.is_object() || !f.dataset.contains(key)) return "–";
    const auto& v = f.dataset[key];
    if (v.is_number_integer()) return md::commas(v.get<long long>());
    return v.is_string() ? md::escape(v.get<std::string>()) : md::escape(v.dump());
}

std::string metric(const std::optional<MetricPoint>& p, int decimals) {
    return p ? md::fixed(p->value, decimals) : std::string("–");
}

}  // namespace

Report compare_report(RunStore& store, const std::vector<std::int64_t>& run_ids,
                      const ReportOptions& options) {
    if (run_ids.size() < 2) throw Error("a comparison needs at least two run IDs");
    if (std::set<std::int64_t>(run_ids.begin(), run_ids.end()).size() != run_ids.size())
        throw Error("a comparison lists each run once");
    std::vector<RunFacts> runs;
    for (auto id : run_ids) runs.push_back(load_run(store, id));
    const auto env = environment_of(options);

    Report report;
    report.title = "Runs";
    for (const auto& f : runs) report.title += " " + std::to_string(f.run.id);
    std::string& out = report.markdown;
    out = "# Comparison of runs";
    for (std::size_t i = 0; i < runs.size(); ++i)
        out += (i == 0 ? " " : i + 1 == runs.size() ? " and " : ", ") + run_label(runs[i].run);
    out += "\n\nGenerated " + md::escape(env.generated_at) + ".\n\n## Settings and results\n\n";

    std::vector<std::string> header = {""};
    std::string align = "l";
    for (const auto& f : runs) {
        header.push_back("Run " + std::to_string(f.run.id));
        align += 'r';
    }
    std::vector<std::vector<std::string>> rows;
    auto row = [&](const std::string& label, auto value) {
        std::vector<std::string> r = {label};
        for (const auto& f : runs) r.push_back(value(f));
        rows.push_back(std::move(r));
    };
    row("Name", [](const RunFacts& f) { return md::escape(f.run.name); });
    row("Status", [](const RunFacts& f) { return run_status_name(f.run.status); });
    row("Preset", [](const RunFacts& f) { return md::escape(f.run.preset); });
    row("Parameters", [](const RunFacts& f) {
        return f.model ? md::commas(parameter_count(*f.model)) : std::string("–");
    });
    row("Corpus", [](const RunFacts& f) { return data_value(f, "corpus"); });
    row("Tokenizer", [](const RunFacts& f) { return data_value(f, "tokenizer"); });
    row("Vocabulary", [](const RunFacts& f) { return data_value(f, "vocab_size"); });
    row("Batch × sequence",
        [](const RunFacts& f) { return setting(f, "batch_size") + " × " + setting(f, "seq_len"); });
    row("Learning rate", [](const RunFacts& f) { return setting(f, "lr"); });
    row("Seed", [](const RunFacts& f) { return std::to_string(f.run.seed); });
    row("Steps", [](const RunFacts& f) { return md::commas(f.steps); });
    row("Tokens", [](const RunFacts& f) { return md::commas(f.tokens); });
    row("Training time", [](const RunFacts& f) { return md::duration(f.wall_s); });
    row("Mean tokens/s", [](const RunFacts& f) {
        return f.wall_s > 0 ? md::commas(std::llround(f.tokens / f.wall_s)) : std::string("–");
    });
    row("Final training loss", [](const RunFacts& f) { return metric(f.final_train, 4); });
    row("Final validation loss", [](const RunFacts& f) { return metric(f.final_val, 4); });
    row("Best validation loss", [](const RunFacts& f) { return metric(f.best_val, 4); });
    row("Best validation perplexity", [](const RunFacts& f) { return metric(f.best_ppl, 2); });
    row("Best bits/byte", [](const RunFacts& f) { return metric(f.best_bpb, 4); });
    out += md::table(header, rows, align) + "\n";

    std::set<std::string> corpora;
    for (const auto& f : runs) corpora.insert(data_value(f, "corpus") + "/" + f.run.tokenizer);
    if (corpora.size() > 1)
        out +=
            "The runs were evaluated on different held-out text or tokenizers: their losses "
            "and perplexities are not directly comparable; bits/byte is.\n\n";

    out += "## Curves\n\nBy tokens trained on, so runs with different batch sizes line up.\n\n";
    auto overlay = [&](const std::string& name, const std::string& title, const std::string& y,
                       bool log, const std::string& suffix) {
        Chart chart{title, "tokens trained on", y, log, {}};
        for (std::size_t i = 0; i < runs.size(); ++i) {
            auto s = metric_series(runs[i], name, true);
            s.name = "run " + std::to_string(runs[i].run.id) + " " + runs[i].run.name;
            s.color = series_color(i);
            s.markers = name.rfind("val_", 0) == 0;
            s.width = 2.0;
            chart.series.push_back(std::move(s));
        }
        out += add_chart(report, options, suffix, chart);
    };
    overlay("val_loss", "Validation loss", "cross-entropy (nats/token)", false, "val-loss");
    overlay("val_bits_per_byte", "Validation bits/byte", "bits/byte", false, "bits-per-byte");
    overlay("train_loss", "Training loss", "cross-entropy (nats/token)", false, "train-loss");
    overlay("lr", "Learning rate", "learning rate", false, "lr");

    std::set<std::int64_t> ids(run_ids.begin(), run_ids.end());
    const auto comparisons =
        comparisons_section(store, [&](std::optional<std::int64_t> run, const std::string&) {
            return run && ids.count(*run);
        });
    out += comparisons.body;
    out += environment_section(env, runs);
    out += comparisons.appendix;
    return report;
}

}  // namespace itera
