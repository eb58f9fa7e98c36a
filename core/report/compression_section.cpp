#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "report/markdown.h"
#include "report/sections.h"

namespace itera::report_detail {
namespace {

double number(const nlohmann::json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nan("");
    return j[key].get<double>();
}

struct Measured {
    CompressionRecord record;
    nlohmann::json report;
};

/// The newest record of each file: an older record of the same path described
/// a file that has since been overwritten.
std::vector<Measured> newest_per_file(const std::vector<CompressionRecord>& records) {
    std::map<std::string, std::size_t> index;
    std::vector<Measured> out;
    for (const auto& r : records) {
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(r.settings);
        } catch (const std::exception&) {
            j = nullptr;
        }
        auto it = index.find(r.path);
        if (it == index.end()) {
            index[r.path] = out.size();
            out.push_back({r, j});
        } else if (r.id > out[it->second].record.id) {
            out[it->second] = {r, j};
        }
    }
    return out;
}

std::string percent(double v, int decimals) {
    return std::isfinite(v) ? md::fixed(v, decimals) + " %" : "–";
}

/// A mixed-precision model's plan: the scheme of each group, and the
/// predicted figures beside the measured ones.
std::string mixed_plan(const Measured& m) {
    const auto& j = m.report;
    if (!j.is_object() || !j.contains("plan") || !j["plan"].is_array()) return {};
    const auto file = std::filesystem::path(m.record.path).filename().string();
    std::string out = "### Mixed-precision plan of " + md::escape(file) + "\n\n";
    if (j.contains("calibration") && j["calibration"].is_object()) {
        const auto& c = j["calibration"];
        out += "Sensitivities measured on " +
               md::commas(static_cast<long long>(number(c, "tokens"))) + " tokens of " +
               md::escape(c.value("data", std::string("?"))) + " (" +
               md::escape(c.value("split", std::string("?"))) + " split). ";
    }
    out += "Predicted: " + md::bytes(static_cast<std::int64_t>(number(j, "predicted_bytes"))) +
           ", ΔPPL " + percent(number(j, "predicted_delta_ppl_pct"), 3) +
           ". Measured: " + md::bytes(m.record.bytes) + ", ΔPPL " +
           percent(number(j, "delta_ppl_pct"), 3) + " (held-out).\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : j["plan"]) {
        if (!c.is_object()) continue;
        rows.push_back({md::code(c.value("group", std::string())),
                        md::escape(c.value("scheme", std::string())),
                        md::bytes(static_cast<std::int64_t>(number(c, "bytes"))),
                        md::fixed(number(c, "predicted_delta_loss"), 5)});
    }
    return out +
           md::table({"Group", "Scheme", "Bytes", "Predicted Δloss (nats/token)"}, rows, "llrr") +
           "\n";
}

/// How a pruned or distilled model was made: what was cut (and what each
/// expert cost), the fine-tune or the training runs behind it.
std::string derived_model(const Measured& m) {
    const auto& j = m.report;
    if (!j.is_object()) return {};
    const auto file = md::escape(std::filesystem::path(m.record.path).filename().string());
    std::string out;
    if (j.contains("pruning") && j["pruning"].is_object()) {
        const auto& p = j["pruning"];
        auto dim = [&](const char* key) {
            return md::fixed(number(p["before"], key), 0) + " → " +
                   md::fixed(number(p["after"], key), 0);
        };
        out += "### Pruning of " + file + "\n\n";
        out += "Experts per MoE layer " + dim("num_experts") + ", FFN/expert width " +
               dim("expert_size") + ", ssm_expand " + dim("ssm_expand") + "; " +
               md::commas(static_cast<long long>(number(j, "source_params"))) + " → " +
               md::commas(static_cast<long long>(number(j, "params"))) +
               " parameters. Importance measured on " +
               md::commas(static_cast<long long>(number(p["calibration"], "tokens"))) +
               " tokens of the training split.";
        if (j.contains("finetune") && j["finetune"].is_object())
            out += " Fine-tuned for " + md::fixed(number(j["finetune"], "steps"), 0) +
                   " steps (run " + md::fixed(number(j["finetune"], "run_id"), 0) +
                   ", peak learning rate " + md::fixed(number(j["finetune"], "lr"), 5) +
                   "), last step kept.";
        out += "\n\n";
        if (p.contains("experts") && p["experts"].is_array()) {
            std::vector<std::vector<std::string>> rows;
            for (const auto& e : p["experts"])
                rows.push_back({md::fixed(number(e, "layer"), 0), md::fixed(number(e, "expert"), 0),
                                percent(100 * number(e, "load"), 1),
                                md::fixed(number(e, "delta_loss"), 5),
                                e.value("kept", true) ? "kept" : "dropped"});
            out += md::table({"Layer", "Expert", "Router load", "Δloss without it", ""}, rows,
                             "rrrrl") +
                   "\n";
        }
    }
    if (j.contains("distillation") && j["distillation"].is_object()) {
        const auto& d = j["distillation"];
        const bool teacher = d.value("teacher", false);
        out += "### " + std::string(teacher ? "Distilled student " : "Student without a teacher ") +
               file + "\n\n";
        out += "Preset " + md::escape(d.value("student_preset", std::string("?"))) + ", run " +
               md::fixed(number(d, "run_id"), 0) + ", " + md::fixed(number(d, "steps"), 0) +
               " steps (" + md::commas(static_cast<long long>(number(d, "tokens"))) + " tokens)";
        if (teacher)
            out += ", loss α·T²·KL + (1 − α)·CE with α = " + md::fixed(number(d, "alpha"), 2) +
                   ", T = " + md::fixed(number(d, "temperature"), 2);
        if (d.contains("baseline_run_id"))
            out += "; the same student without the teacher is run " +
                   md::fixed(number(d, "baseline_run_id"), 0);
        if (d.contains("student_run_id"))
            out += "; the baseline of the distilled run " +
                   md::fixed(number(d, "student_run_id"), 0) + " (same seed and steps)";
        out += ".\n\n";
    }
    return out;
}

}  // namespace

std::string compression_section(Report& report, const ReportOptions& options,
                                const std::vector<CompressionRecord>& records) {
    std::string out = "## Compressed models\n\n";
    if (records.empty()) return out + "No compressed models are stored for this model.\n\n";
    const auto rows_in = newest_per_file(records);

    // The FP32 source, from the newest report that measured it.
    std::vector<std::vector<std::string>> rows;
    const Measured* with_source = nullptr;
    for (const auto& m : rows_in)
        if (std::isfinite(number(m.report, "source_bytes")) &&
            (!with_source || std::isfinite(number(m.report, "source_perplexity"))))
            with_source = &m;
    if (with_source) {
        const auto& j = with_source->report;
        rows.push_back(
            {"fp32 (source)",
             md::escape(std::filesystem::path(with_source->record.source_path).filename().string()),
             md::bytes(static_cast<std::int64_t>(number(j, "source_bytes"))), "1.00×", "32.00",
             md::fixed(number(j, "source_perplexity"), 2), "–",
             md::fixed(number(j, "source_bits_per_byte"), 4), "–", "–",
             md::fixed(number(j, "source_decode_tokens_per_s"), 0),
             md::fixed(number(j, "source_prefill_tokens_per_s"), 0)});
    }
    std::string missing;
    for (const auto& m : rows_in) {
        const auto& j = m.report;
        auto file = std::filesystem::path(m.record.path).filename().string();
        const bool exists = std::filesystem::exists(m.record.path);
        if (!exists) missing += (missing.empty() ? "" : ", ") + md::escape(file);
        const double top1 = number(j, "top1_agreement");  // NaN when not evaluated
        rows.push_back({md::escape(m.record.method),
                        md::escape(file) + (exists ? "" : " (missing)"), md::bytes(m.record.bytes),
                        md::fixed(number(j, "ratio"), 2) + "×", md::fixed(number(j, "bpw"), 2),
                        md::fixed(number(j, "perplexity"), 2),
                        percent(number(j, "delta_ppl_pct"), 3),
                        md::fixed(number(j, "bits_per_byte"), 4), md::fixed(number(j, "kld"), 5),
                        percent(100 * top1, 2), md::fixed(number(j, "decode_tokens_per_s"), 0),
                        md::fixed(number(j, "prefill_tokens_per_s"), 0)});
    }
    out += md::table({"Method", "File", "Size", "Ratio", "Bits/weight", "PPL", "ΔPPL", "Bits/byte",
                      "KL (nats/token)", "Top-1 agreement", "Decode tok/s", "Prefill tok/s"},
                     rows, "llrrrrrrrrrr");
    std::set<std::string> eval_sets;
    for (const auto& m : rows_in)
        if (m.report.is_object() && m.report.contains("eval") && m.report["eval"].is_object()) {
            const auto& e = m.report["eval"];
            eval_sets.insert(md::commas(static_cast<long long>(number(e, "tokens"))) +
                             " tokens of " + md::escape(e.value("data", std::string("?"))) + " (" +
                             md::escape(e.value("split", std::string("?"))) + " split)");
        }
    out +=
        "\nSizes are the files on disk; the ratio is the FP32 source's file size over the "
        "compressed file's. ";
    if (!eval_sets.empty()) {
        std::string sets;
        for (const auto& e : eval_sets) sets += (sets.empty() ? "" : "; ") + e;
        out +=
            "Perplexity, bits/byte, KL divergence and top-1 agreement compare each model with "
            "its FP32 source on held-out text: " +
            sets + ". ";
    }
    const nlohmann::json* timing = nullptr;
    for (const auto& m : rows_in)
        if (m.report.is_object() && m.report.contains("timing") && m.report["timing"].is_object())
            timing = &m.report["timing"];
    if (timing)
        out += "Speeds: one stream on " + md::fixed(number(*timing, "threads"), 0) +
               " thread(s), " + md::fixed(number(*timing, "decode_tokens"), 0) +
               " decoded tokens and a " + md::fixed(number(*timing, "prefill_tokens"), 0) +
               "-token prompt, the median of " + md::fixed(number(*timing, "rounds"), 0) +
               " rounds alternating with the source.";
    else
        out += "Speeds were measured by itera compress when each model was made.";
    if (!missing.empty())
        out += " Files no longer on disk (their measurements are kept): " + missing + ".";
    out += "\n\n";
    for (const auto& m : rows_in) out += mixed_plan(m) + derived_model(m);

    // Size against quality cost, one colour per method, the Pareto front drawn.
    Chart chart;
    chart.title = "Compression: size against perplexity change";
    chart.x_label = "compression ratio (FP32 file size / compressed file size)";
    chart.y_label = "perplexity change vs FP32 (%)";
    std::map<std::string, std::size_t> series_of;
    std::vector<std::pair<double, double>> points;
    for (const auto& m : rows_in) {
        const double x = number(m.report, "ratio"), y = number(m.report, "delta_ppl_pct");
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        auto [it, added] = series_of.emplace(m.record.method, chart.series.size());
        if (added) {
            ChartSeries s;
            s.name = m.record.method;
            s.color = series_color(chart.series.size());
            s.line = false;
            s.markers = true;
            chart.series.push_back(s);
        }
        chart.series[it->second].x.push_back(x);
        chart.series[it->second].y.push_back(y);
        points.emplace_back(x, y);
    }
    if (points.size() < 2) return out;
    // A point is on the front when no other point is at least as small and at
    // least as good, and better in one of the two.
    std::vector<std::pair<double, double>> front;
    for (const auto& p : points) {
        bool dominated = false;
        for (const auto& q : points)
            if (q.first >= p.first && q.second <= p.second &&
                (q.first > p.first || q.second < p.second))
                dominated = true;
        if (!dominated) front.push_back(p);
    }
    std::sort(front.begin(), front.end());
    front.erase(std::unique(front.begin(), front.end()), front.end());
    ChartSeries pareto;
    pareto.name = "Pareto front";
    pareto.color = 0x9a9a9a;
    pareto.width = 1.0;
    for (const auto& [x, y] : front) {
        pareto.x.push_back(x);
        pareto.y.push_back(y);
    }
    chart.series.insert(chart.series.begin(), pareto);
    out += add_chart(report, options, "compression", chart);
    return out;
}

}  // namespace itera::report_detail
