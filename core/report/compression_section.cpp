#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "eval/quality_stats.h"
#include "report/markdown.h"
#include "report/sections.h"
#include "util/palette.h"

namespace itera::report_detail {
namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

template <typename T>
double or_none(const std::optional<T>& v) {
    return v ? static_cast<double>(*v) : kNone;
}

/// The newest record of each file: an older record of the same path described
/// a file that has since been overwritten.
std::vector<CompressionRecord> newest_per_file(const std::vector<CompressionRecord>& records) {
    std::map<std::string, std::size_t> index;
    std::vector<CompressionRecord> out;
    for (const auto& r : records) {
        auto it = index.find(r.path);
        if (it == index.end()) {
            index[r.path] = out.size();
            out.push_back(r);
        } else if (r.id > out[it->second].id) {
            out[it->second] = r;
        }
    }
    return out;
}

std::string percent(double v, int decimals) {
    return std::isfinite(v) ? md::fixed(v, decimals) + " %" : "–";
}

/// llama.cpp's statistics of every model that has them: the distribution of
/// the KL divergence and of the change of the correct token's probability.
std::string statistics_table(const std::vector<CompressionRecord>& records) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : records) {
        if (!m.report.statistics) continue;
        const auto& s = *m.report.statistics;
        rows.push_back(
            {md::escape(m.method), md::escape(std::filesystem::path(m.path).filename().string()),
             md::commas(s.tokens),
             md::fixed(s.ln_ppl_ratio, 5) + " ± " + md::fixed(s.ln_ppl_ratio_unc, 5),
             md::fixed(s.kld.median, 5), md::fixed(s.kld.p90, 5), md::fixed(s.kld.p99, 5),
             md::fixed(s.kld.p999, 5), md::fixed(s.kld.max, 4), md::fixed(100 * s.dp_rms, 3) + " %",
             md::fixed(100 * s.dp.p1, 3) + " %", md::fixed(100 * s.dp.p99, 3) + " %"});
    }
    if (rows.empty()) return {};
    return "### Quality statistics\n\nOver the same held-out tokens, as llama.cpp's `perplexity "
           "--kl-divergence` reports them: ln(PPL / PPL of FP32) with its standard error (from the "
           "per-token covariance of the two models' losses), the KL divergence's distribution "
           "over tokens, and Δp, the change of the probability of the correct token.\n\n" +
           md::table({"Method", "File", "Tokens", "ln(PPL ratio)", "KLD median", "KLD p90",
                      "KLD p99", "KLD p99.9", "KLD max", "Δp RMS", "Δp p1", "Δp p99"},
                     rows, "llrrrrrrrrrr") +
           "\n";
}

/// A mixed-precision model's plan: the scheme of each group, and the
/// predicted figures beside the measured ones.
std::string mixed_plan(const CompressionRecord& m) {
    if (!m.report.mixed) return {};
    const auto& p = *m.report.mixed;
    const auto& q = m.report.quality;
    const auto file = std::filesystem::path(m.path).filename().string();
    std::string out = "### Mixed-precision plan of " + md::escape(file) + "\n\n";
    out += "Sensitivities measured on " + md::commas(p.calibration_tokens) + " tokens of " +
           md::escape(p.calibration_data) + " (" + md::escape(p.calibration_split) + " split). ";
    out += "Predicted: " + md::bytes(p.predicted_bytes) + ", ΔPPL " +
           percent(p.predicted_delta_ppl_pct, 3) + ". Measured: " + md::bytes(m.bytes) + ", ΔPPL " +
           percent(q ? q->delta_ppl_pct : kNone, 3) + " (held-out).\n\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : p.plan)
        rows.push_back({md::code(c.group), md::escape(c.scheme), md::bytes(c.bytes),
                        md::fixed(c.predicted_delta_loss, 5)});
    std::string choice;
    if (!p.candidates.empty()) {
        std::vector<std::vector<std::string>> crow;
        for (const auto& c : p.candidates)
            crow.push_back({md::escape(c.name), md::bytes(c.bytes),
                            md::fixed(c.kld, 5) + " ± " + md::fixed(c.kld_unc, 5),
                            c.meets_target ? "yes" : "no",
                            c.name == p.chosen ? "**written**" : ""});
        choice =
            "The plan against every uniform scheme, measured on the calibration text (a plan "
            "is written only when no uniform scheme meeting the target beats it): " +
            md::escape(p.reason) + ".\n\n" +
            md::table({"Candidate", "Size", "Mean KLD", "Meets the target", ""}, crow, "lrrll") +
            "\n";
    }
    return out +
           md::table({"Group", "Scheme", "Bytes", "Predicted Δloss (nats/token)"}, rows, "llrr") +
           "\n" + choice;
}

/// How a pruned or distilled model was made: what was cut (and what each
/// expert cost), the fine-tune or the training runs behind it.
std::string derived_model(const CompressionRecord& m) {
    const auto& r = m.report;
    const auto file = md::escape(std::filesystem::path(m.path).filename().string());
    std::string out;
    if (r.pruning) {
        const auto& p = *r.pruning;
        auto dim = [](std::int64_t before, std::int64_t after) {
            return std::to_string(before) + " → " + std::to_string(after);
        };
        out += "### Pruning of " + file + "\n\n";
        out += "Experts per MoE layer " + dim(p.before.num_experts, p.after.num_experts) +
               ", FFN/expert width " + dim(p.before.expert_size, p.after.expert_size) +
               ", ssm_expand " + dim(p.before.ssm_expand, p.after.ssm_expand) + "; " +
               md::commas(r.source_params.value_or(0)) + " → " + md::commas(r.params.value_or(0)) +
               " parameters. Importance measured on " + md::commas(p.calibration_tokens) +
               " tokens of the training split.";
        if (r.finetune)
            out += " Fine-tuned for " + std::to_string(r.finetune->steps) + " steps (run " +
                   std::to_string(r.finetune->run_id) + ", peak learning rate " +
                   md::fixed(r.finetune->lr, 5) + "), last step kept.";
        out += "\n\n";
        if (!p.experts.empty()) {
            std::vector<std::vector<std::string>> rows;
            for (const auto& e : p.experts)
                rows.push_back({std::to_string(e.layer), std::to_string(e.expert),
                                percent(100 * e.load, 1), md::fixed(e.delta_loss, 5),
                                e.kept ? "kept" : "dropped"});
            out += md::table({"Layer", "Expert", "Router load", "Δloss without it", ""}, rows,
                             "rrrrl") +
                   "\n";
        }
    }
    if (r.distillation) {
        const auto& d = *r.distillation;
        out += "### " +
               std::string(d.teacher ? "Distilled student " : "Student without a teacher ") + file +
               "\n\n";
        out += "Preset " + md::escape(d.student_preset) + ", run " + std::to_string(d.run_id) +
               ", " + std::to_string(d.steps) + " steps (" + md::commas(d.tokens) + " tokens)";
        if (d.teacher)
            out += ", loss α·T²·KL + (1 − α)·CE with α = " + md::fixed(d.alpha, 2) +
                   ", T = " + md::fixed(d.temperature, 2);
        if (d.baseline_run_id)
            out += "; the same student without the teacher is run " +
                   std::to_string(*d.baseline_run_id);
        if (d.student_run_id)
            out += "; the baseline of the distilled run " + std::to_string(*d.student_run_id) +
                   " (same seed and steps)";
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
    const CompressionRecord* with_source = nullptr;
    for (const auto& m : rows_in)
        if (m.report.source_bytes > 0 &&
            (!with_source ||
             (m.report.quality && std::isfinite(m.report.quality->source_perplexity))))
            with_source = &m;
    if (with_source) {
        const auto& r = with_source->report;
        const auto& q = r.quality;
        const auto& s = r.speed;
        rows.push_back(
            {"fp32 (source)",
             md::escape(std::filesystem::path(with_source->source_path).filename().string()),
             md::bytes(r.source_bytes), "1.00×", "32.00",
             md::fixed(q ? q->source_perplexity : kNone, 2), "–",
             md::fixed(q ? q->source_bits_per_byte : kNone, 4), "–", "–",
             md::fixed(s ? s->source_decode_tokens_per_s : kNone, 0),
             md::fixed(s ? s->source_prefill_tokens_per_s : kNone, 0)});
    }
    std::string missing;
    for (const auto& m : rows_in) {
        const auto& r = m.report;
        const auto& q = r.quality;
        const auto& s = r.speed;
        auto file = std::filesystem::path(m.path).filename().string();
        const bool exists = std::filesystem::exists(m.path);
        if (!exists) missing += (missing.empty() ? "" : ", ") + md::escape(file);
        const auto& st = r.statistics;
        const auto& pr = r.paired;
        // With statistics: each figure with its uncertainty, ΔPPL "within
        // noise" when its 95 % interval holds 0; with paired timing: the
        // speed beside its ratio to the source, timed in the same measurement.
        auto speed = [&](double unpaired, const PairedRate* rate) {
            if (!rate || rate->b.empty()) return md::fixed(unpaired, 0);
            return md::fixed(rate->b_median, 0) + " (" + md::fixed(rate->ratio_median, 2) + "× [" +
                   md::fixed(rate->ratio_min, 2) + "–" + md::fixed(rate->ratio_max, 2) + "])";
        };
        rows.push_back(
            {md::escape(m.method), md::escape(file) + (exists ? "" : " (missing)"),
             md::bytes(m.bytes), md::fixed(r.ratio > 0 ? r.ratio : kNone, 2) + "×",
             md::fixed(or_none(r.bpw), 2), md::fixed(q ? q->perplexity : kNone, 2),
             st ? md::escape(delta_ppl_text(*st)) : percent(q ? q->delta_ppl_pct : kNone, 3),
             md::fixed(q ? q->bits_per_byte : kNone, 4),
             st ? md::fixed(st->kld_mean, 5) + " ± " + md::fixed(st->kld_unc, 5)
                : md::fixed(q ? q->kld : kNone, 5),
             st ? percent(100 * st->same_top, 2) + " ± " + md::fixed(100 * st->same_top_unc, 2)
                : percent(q ? 100 * q->top1_agreement : kNone, 2),
             speed(s ? s->decode_tokens_per_s : kNone, pr ? &pr->decode : nullptr),
             speed(s ? s->prefill_tokens_per_s : kNone, pr ? &pr->prefill : nullptr)});
    }
    out += md::table({"Method", "File", "Size", "Ratio", "Bits/weight", "PPL", "ΔPPL", "Bits/byte",
                      "KL (nats/token)", "Top-1 agreement", "Decode tok/s", "Prefill tok/s"},
                     rows, "llrrrrrrrrrr");
    std::set<std::string> eval_sets;
    for (const auto& m : rows_in)
        if (const auto& e = m.report.eval)
            eval_sets.insert(md::commas(e->tokens) + " tokens of " + md::escape(e->data) + " (" +
                             md::escape(e->split) + " split)");
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
    // Rows measured before paired timing carry rounds only; each kind is described.
    const TimingReport* timing = nullptr;
    const PairedSpeedReport* paired = nullptr;
    for (const auto& m : rows_in) {
        if (m.report.speed && !m.report.paired) timing = &m.report.speed->timing;
        if (m.report.paired) paired = &*m.report.paired;
    }
    if (paired && timing)
        out +=
            "Speeds with a ratio: each model and its source timed interleaved in one "
            "measurement — after a warm-up of each, " +
            std::to_string(paired->pairs) + " pairs of runs in alternating order on " +
            std::to_string(paired->threads) +
            " thread(s); the ratio to FP32 is the median of "
            "the per-pair ratios, with its min and max, and the speed beside it the median of "
            "the same runs. Speeds without one (measured before paired timing): the median of " +
            std::to_string(timing->rounds) + " rounds alternating with the source on " +
            std::to_string(timing->threads) + " thread(s). Both with " +
            std::to_string(paired->decode_tokens) + " decoded tokens and a " +
            std::to_string(paired->prompt_tokens) + "-token prompt.";
    else if (paired)
        out +=
            "Speeds: each model and its source timed interleaved in one measurement — after a "
            "warm-up of each, " +
            std::to_string(paired->pairs) + " pairs of runs in alternating order on " +
            std::to_string(paired->threads) + " thread(s), " +
            std::to_string(paired->decode_tokens) + " decoded tokens and a " +
            std::to_string(paired->prompt_tokens) +
            "-token prompt; the ratio to FP32 is the median of the per-pair ratios, with "
            "its min and max, and the speed beside it is the median of the same runs.";
    else if (timing)
        out += "Speeds: one stream on " + std::to_string(timing->threads) + " thread(s), " +
               std::to_string(timing->decode_tokens) + " decoded tokens and a " +
               std::to_string(timing->prefill_tokens) + "-token prompt, the median of " +
               std::to_string(timing->rounds) + " rounds alternating with the source.";
    else
        out += "Speeds were measured by itera compress when each model was made.";
    if (!missing.empty())
        out += " Files no longer on disk (their measurements are kept): " + missing + ".";
    out += "\n\n";
    out += statistics_table(rows_in);
    for (const auto& m : rows_in) out += mixed_plan(m) + derived_model(m);

    // Size against quality cost, one colour per method, the Pareto front drawn.
    Chart chart;
    chart.title = "Compression: size against perplexity change";
    chart.x_label = "compression ratio (FP32 file size / compressed file size)";
    chart.y_label = "perplexity change vs FP32 (%)";
    std::map<std::string, std::size_t> series_of;
    std::vector<std::pair<double, double>> points;
    for (const auto& m : rows_in) {
        if (!m.report.quality || !(m.report.ratio > 0)) continue;
        const double x = m.report.ratio, y = m.report.quality->delta_ppl_pct;
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        auto [it, added] = series_of.emplace(m.method, chart.series.size());
        if (added) {
            ChartSeries s;
            s.name = m.method;
            s.color = method_colour(m.method);  // as in the workbench, whatever else is shown
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
