#include <cmath>
#include <set>

#include <map>

#include "infer/context_timing.h"
#include "model/tensor_names.h"
#include "report/markdown.h"
#include "report/sections.h"
#include "util/error.h"
#include "util/read_file.h"

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

/// The run's decode figures by context length (`itera bench decode --contexts`
/// on its checkpoint), or null.
nlohmann::json decode_by_context(RunStore& store, std::int64_t run) {
    try {
        return nlohmann::json::parse(read_file(store.run_dir(run) / kDecodeByContextFile));
    } catch (const std::exception&) {
        return nullptr;  // not measured (or unreadable): the report says "–"
    }
}

/// The newest compression of each method made from the run's checkpoints.
std::map<std::string, CompressionRecord> newest_compressions(RunStore& store, std::int64_t run) {
    std::map<std::string, CompressionRecord> out;
    for (auto& c : store.compressions(run))
        if (!out.count(c.method) || out[c.method].id < c.id) out[c.method] = c;
    return out;
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
    row("Architecture", [](const RunFacts& f) {
        if (!f.model) return std::string("–");
        if (f.model->is_transformer())
            return "Transformer (" + std::to_string(f.model->num_heads) + " heads, window " +
                   md::commas(f.model->context_length) + ")";
        const auto c = f.model->resolved();
        return "Itera-Lite (N " + std::to_string(c.ssm_state_size) +
               (c.moe_layers.empty() ? ", no MoE)"
                                     : ", MoE " + std::to_string(c.top_k_experts) + " of " +
                                           std::to_string(c.num_experts) + ")");
    });
    row("Parameters", [](const RunFacts& f) {
        return f.model ? md::commas(parameter_count(*f.model)) : std::string("–");
    });
    row("Active parameters per token", [](const RunFacts& f) {
        return f.model ? md::commas(active_parameter_count(*f.model)) : std::string("–");
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

    // Decode speed by context length, as measured on each run's checkpoint.
    std::vector<nlohmann::json> decode;
    std::set<std::int64_t> contexts;
    for (const auto& f : runs) {
        decode.push_back(decode_by_context(store, f.run.id));
        if (decode.back().is_object() && decode.back().contains("points"))
            for (const auto& p : decode.back()["points"])
                contexts.insert(p.value("context", std::int64_t{0}));
    }
    for (auto context : contexts) {
        std::vector<std::string> r = {"Decode tokens/s at context " + md::commas(context)};
        for (const auto& d : decode) {
            std::string cell = "–";
            if (d.is_object() && d.contains("points"))
                for (const auto& p : d["points"])
                    if (p.value("context", std::int64_t{0}) == context)
                        cell = md::commas(std::llround(p.value("decode_tokens_per_s", 0.0))) +
                               " (state " + md::bytes(p.value("state_bytes", std::int64_t{0})) +
                               ")";
            r.push_back(cell);
        }
        rows.push_back(std::move(r));
    }

    // ΔPPL and KLD of each compression scheme applied to the run's checkpoints.
    std::vector<std::map<std::string, CompressionRecord>> compressed;
    std::set<std::string> methods;
    for (const auto& f : runs) {
        compressed.push_back(newest_compressions(store, f.run.id));
        for (const auto& [m, c] : compressed.back())
            if (c.report.quality) methods.insert(m);
    }
    for (const auto& m : methods) {
        std::vector<std::string> r = {md::escape(m) + ": ΔPPL, KLD"};
        for (const auto& per_run : compressed) {
            auto it = per_run.find(m);
            if (it == per_run.end() || !it->second.report.quality) {
                r.push_back("–");
                continue;
            }
            const auto& q = *it->second.report.quality;
            r.push_back((q.delta_ppl_pct >= 0 ? "+" : "") + md::fixed(q.delta_ppl_pct, 2) + " %, " +
                        md::fixed(q.kld, 4));
        }
        rows.push_back(std::move(r));
    }
    out += md::table(header, rows, align) + "\n";
    if (!contexts.empty())
        out +=
            "Decode speeds come from `itera bench decode --contexts … A --vs B` on each run's "
            "checkpoint: one thread per model unless stated, the two models of a measurement "
            "timed interleaved; the state is what one sequence holds at that context "
            "(Itera-Lite's SSM states, a Transformer's key/value cache). Figures of runs "
            "measured in different invocations were taken at different times.\n\n";
    if (!methods.empty())
        out +=
            "Compression rows: the newest compression of each scheme made from the run's "
            "checkpoint, its perplexity change and mean KL divergence from the FP32 model on "
            "held-out text (nats/token).\n\n";

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
