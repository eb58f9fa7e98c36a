#include <algorithm>
#include <cmath>
#include <filesystem>

#include "model/tensor_names.h"
#include "report/markdown.h"
#include "report/sections.h"
#include "util/palette.h"

namespace itera {
namespace {

using namespace report_detail;

std::string value_text(const nlohmann::json& v) {
    if (v.is_string()) return md::escape(v.get<std::string>());
    if (v.is_array()) {
        std::string s;
        for (const auto& e : v) s += (s.empty() ? "" : ", ") + value_text(e);
        return s.empty() ? "none" : s;
    }
    return md::escape(v.dump());
}

std::string data_section(const RunFacts& f) {
    std::string out = "## Data and tokenizer\n\n";
    const auto& d = f.dataset;
    if (!d.is_object()) return out + "The run's data description is not recorded.\n\n";
    std::vector<std::vector<std::string>> rows;
    auto add = [&](const char* label, const char* key) {
        if (d.contains(key)) rows.push_back({label, value_text(d[key])});
    };
    auto add_count = [&](const char* label, const char* key) {
        if (d.contains(key) && d[key].is_number_integer())
            rows.push_back({label, md::commas(d[key].get<long long>())});
    };
    add("Corpus", "corpus");
    add("Format", "format");
    add("Tokenizer", "tokenizer");
    add("Vocabulary", "vocab_size");
    rows.push_back({"Tokenizer fingerprint", md::escape(f.run.tokenizer)});
    add("Held-out fraction", "validation_fraction");
    add("Split seed", "split_seed");
    add_count("Training tokens", "train_tokens");
    add_count("Held-out tokens", "validation_tokens");
    add_count("Held-out bytes", "validation_bytes");
    if (d.contains("identity") && d["identity"].is_object()) {
        const auto& id = d["identity"];
        if (id.contains("train_files") && id["train_files"].is_array()) {
            long long bytes = 0;
            for (const auto& file : id["train_files"]) bytes += file.value("size", 0LL);
            rows.push_back(
                {"Corpus files", md::commas(static_cast<long long>(id["train_files"].size())) +
                                     " (" + md::bytes(bytes) + ")"});
        }
    }
    return out + md::table({"", "Value"}, rows, "ll") + "\n";
}

std::string model_section(const RunFacts& f) {
    std::string out = "## Model\n\n";
    if (!f.model) return out + "The run's model configuration is not recorded.\n\n";
    const auto& m = f.config["model"];
    out += "Preset " + md::escape(f.run.preset.empty() ? "custom" : f.run.preset) + ": " +
           md::commas(parameter_count(*f.model)) + " parameters, " +
           md::commas(active_parameter_count(*f.model)) + " active per token.\n\n";
    std::vector<std::vector<std::string>> rows;
    for (auto it = m.begin(); it != m.end(); ++it)
        rows.push_back({md::code(it.key()), value_text(it.value())});
    return out + md::table({"Key", "Value"}, rows, "ll") + "\n";
}

std::string settings_section(const RunFacts& f) {
    std::string out = "## Training settings\n\n";
    if (!f.config.is_object()) return out + "The run's settings are not recorded.\n\n";
    std::vector<std::vector<std::string>> rows;
    for (auto it = f.config.begin(); it != f.config.end(); ++it)
        if (it.key() != "model" && it.key() != "data")
            rows.push_back({md::code(it.key()), value_text(it.value())});
    return out + md::table({"Setting", "Value"}, rows, "ll") + "\n";
}

/// The median of the trainer's tokens/s points (training steps only, without
/// the pauses for evaluation and checkpoints that the wall time includes).
std::string median_speed(const RunFacts& f) {
    std::vector<double> v = metric_series(f, "tokens_per_s", false).y;
    if (v.empty()) return "–";
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return md::commas(std::llround(v[v.size() / 2])) + " tokens/s";
}

std::string summary_section(const RunFacts& f) {
    std::string out = "## Training summary\n\n";
    const auto& r = f.run;
    out += "Status: " + run_status_name(r.status);
    if (!r.message.empty()) out += " (" + md::escape(r.message) + ")";
    out += ". Created " + md::escape(r.created_at);
    if (!r.ended_at.empty()) out += ", ended " + md::escape(r.ended_at);
    out += ".\n\n";
    if (!f.final_train) return out + "No training steps were stored.\n\n";
    auto at = [](const std::optional<MetricPoint>& p, int decimals) {
        return p ? md::fixed(p->value, decimals) + " (step " + md::commas(p->step) + ")"
                 : std::string("–");
    };
    std::vector<std::vector<std::string>> rows = {
        {"Steps", md::commas(f.steps)},
        {"Tokens trained on", md::commas(f.tokens)},
        {"Training time", md::duration(f.wall_s)},
        {"Tokens / training time",
         f.wall_s > 0 ? md::commas(std::llround(f.tokens / f.wall_s)) + " tokens/s" : "–"},
        {"Median training speed (logged points)", median_speed(f)},
        {"Final training loss", at(f.final_train, 4)},
        {"Final validation loss", at(f.final_val, 4)},
        {"Best validation loss", at(f.best_val, 4)},
        {"Best validation perplexity", at(f.best_ppl, 2)},
        {"Best validation bits/byte", at(f.best_bpb, 4)},
    };
    return out + md::table({"", "Value"}, rows, "lr") + "\n";
}

std::string charts_section(Report& report, const ReportOptions& options, const RunFacts& f) {
    std::string out = "## Curves\n\n";
    auto train = metric_series(f, "train_loss", false);
    auto val = metric_series(f, "val_loss", false);
    if (train.x.empty() && val.x.empty()) return out + "No metric points were stored.\n\n";
    train.name = "training (each step)";
    train.color = run_colour(0);  // the workbench's colours for these metrics
    train.width = 1.0;
    val.name = "validation";
    val.color = run_colour(1);
    val.markers = true;
    val.width = 2.0;
    out += add_chart(report, options, "loss",
                     {"Loss", "step", "cross-entropy (nats/token)", false, {train, val}});
    auto ppl = metric_series(f, "val_perplexity", false);
    if (!ppl.x.empty()) {
        ppl.name = "validation";
        ppl.color = run_colour(0);
        ppl.markers = true;
        ppl.width = 2.0;
        out += add_chart(report, options, "perplexity",
                         {"Validation perplexity", "step", "perplexity (log scale)", true, {ppl}});
    } else {
        out += "No validation points were stored, so there is no perplexity curve.\n\n";
    }
    auto lr = metric_series(f, "lr", false);
    if (!lr.x.empty()) {
        lr.name = "learning rate";
        out += add_chart(report, options, "lr",
                         {"Learning rate", "step", "learning rate", false, {lr}});
    }
    return out;
}

/// A checkpoint's path relative to its run's folder, marked when it is gone.
std::string shown_path(const std::filesystem::path& run_dir, const std::string& path) {
    const auto rel = std::filesystem::path(path).lexically_relative(run_dir);
    const bool inside = !rel.empty() && rel.begin()->string() != "..";
    return (inside ? rel.string() : path) + (std::filesystem::exists(path) ? "" : " (missing)");
}

std::string checkpoints_section(RunStore& store, std::int64_t id) {
    std::string out = "## Checkpoints\n\n";
    // A file rewritten later (the "latest" checkpoint) keeps only its newest record.
    std::vector<CheckpointRecord> cps;
    for (const auto& c : store.checkpoints(id)) {
        auto same = std::find_if(cps.begin(), cps.end(),
                                 [&](const CheckpointRecord& o) { return o.path == c.path; });
        if (same == cps.end())
            cps.push_back(c);
        else if (c.step >= same->step)
            *same = c;
    }
    if (cps.empty()) return out + "No checkpoints are stored.\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : cps)
        rows.push_back({md::escape(c.kind), md::commas(c.step),
                        md::escape(shown_path(store.run_dir(id), c.path)), md::bytes(c.bytes),
                        c.val_loss ? md::fixed(*c.val_loss, 4) : "–",
                        "`" + c.sha256.substr(0, 16) + "`"});
    return out +
           md::table({"Kind", "Step", "File", "Size", "Val loss", "SHA-256 (first 16)"}, rows,
                     "lrlrrl") +
           "\n";
}

}  // namespace

Report run_report(RunStore& store, std::int64_t run_id, const ReportOptions& options) {
    const auto f = load_run(store, run_id);
    const auto env = environment_of(options);
    Report report;
    report.title = "Run " + std::to_string(f.run.id) + ": " + f.run.name;
    std::string& out = report.markdown;
    out = "# Training report: run " + run_label(f.run) + "\n\n";
    out += "Generated " + md::escape(env.generated_at) + ".";
    if (!f.run.tags.empty()) {
        out += " Tags:";
        for (const auto& t : f.run.tags) out += " " + md::escape(t);
        out += ".";
    }
    out += "\n\n";
    out += summary_section(f);
    out += charts_section(report, options, f);
    out += data_section(f);
    out += model_section(f);
    out += settings_section(f);
    out += checkpoints_section(store, run_id);
    out += compression_section(report, options, store.compressions(run_id));
    const auto comparisons = comparisons_section(
        store,
        [&](std::optional<std::int64_t> run, const std::string&) { return run && *run == run_id; });
    out += comparisons.body;
    out += "## Notes\n\n";
    if (f.run.notes.empty()) out += "No notes.";
    std::size_t start = 0;  // each line of the notes kept as a line
    while (start < f.run.notes.size()) {
        auto end = f.run.notes.find('\n', start);
        if (end == std::string::npos) end = f.run.notes.size();
        out += md::escape(f.run.notes.substr(start, end - start)) + "  \n";
        start = end + 1;
    }
    out += "\n\n";
    out += environment_section(env, {f});
    out += comparisons.appendix;
    return report;
}

}  // namespace itera
