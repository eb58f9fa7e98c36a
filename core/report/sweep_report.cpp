// `itera report --sweep ID`: a sweep's trials, its decisions and its charts.

#include <algorithm>
#include <cmath>

#include "report/markdown.h"
#include "report/sections.h"
#include "report/sweep_charts.h"
#include "report/sweep_view.h"
#include "sweep/samplers.h"
#include "util/error.h"

namespace itera {
namespace {

using namespace report_detail;
using json = nlohmann::json;

std::string objective_text(const std::optional<double>& v) {
    return v ? md::fixed(*v, 4) : std::string("–");
}

std::string spec_summary(const SweepSpec& s) {
    std::string out = "- Method: " + sweep_method_name(s.method) + ", " +
                      std::to_string(s.configurations) + " configuration(s)";
    if (s.seeds > 1) out += " × " + std::to_string(s.seeds) + " seeds";
    out += "\n- Objective: " + md::code(s.metric) + " (" + (s.maximize ? "maximize" : "minimize") +
           "; a trial's value is its best at or before the step in question)\n";
    if (s.early_stopping()) {
        out += "- Early stopping: ASHA, rungs at steps";
        for (std::size_t i = 0; i < s.rungs.size(); ++i)
            out += (i ? ", " : " ") + md::commas(s.rungs[i]);
        out += "; the best 1/" + std::to_string(s.reduction) + " of each rung go on\n";
    } else {
        out += "- Early stopping: none\n";
    }
    if (s.total_minutes > 0) out += "- Budget: " + md::duration(s.total_minutes * 60) + "\n";
    out += "- Parameters:\n";
    for (const auto& p : s.parameters) {
        out += "  - " + md::code(p.name) + ": ";
        if (p.is_range())
            out += std::string(p.log ? "log-uniform" : "uniform") + (p.integer ? " integers" : "") +
                   " in [" + number_text(p.lo) + ", " + number_text(p.hi) + "]\n";
        else
            out += "one of " + md::escape(p.values.dump()) + "\n";
    }
    return out;
}

}  // namespace

Report sweep_report(RunStore& store, std::int64_t sweep_id, const ReportOptions& options) {
    const auto view = sweep_view(store, sweep_id);
    const auto& spec = view.spec;
    const auto env = environment_of(options);
    Report report;
    report.title = "Sweep " + std::to_string(sweep_id);
    auto& out = report.markdown;
    out = "# Sweep " + std::to_string(sweep_id) +
          (view.record.name.empty() ? "" : ": " + md::escape(view.record.name)) + "\n\n";
    out += "Generated " + md::escape(env.generated_at) + ". Status: **" + view.record.status +
           "**" +
           (view.record.message.empty() ? "" : " (" + md::escape(view.record.message) + ")") +
           ". Running time: " + md::duration(view.record.elapsed_s) + ".\n\n";
    out += spec_summary(spec) + "\n";

    double trained_s = 0;
    std::int64_t steps = 0;
    for (const auto& t : view.trials) {
        steps += t.steps_done;
        if (!t.record.run_id) continue;
        const auto latest = store.latest_metrics(*t.record.run_id);
        if (auto it = latest.find("train_loss"); it != latest.end()) trained_s += it->second.wall_s;
    }
    out += "## Result\n\n" + std::to_string(view.trials.size()) + " trial(s) trained " +
           md::commas(steps) + " steps in " + md::duration(trained_s) + " of training time.";
    if (view.best) {
        const auto& b = view.trials[*view.best];
        out += " The best is trial " + std::to_string(b.record.trial + 1) + " (run " +
               std::to_string(b.record.run_id.value_or(0)) + "): " + md::code(spec.metric) + " " +
               md::fixed(*b.objective, 4) + " at step " + md::commas(b.best_step) + ", with ";
        std::string params;
        for (const auto& [k, v] : b.params.items())
            params += (params.empty() ? "" : ", ") +
                      md::code(parameter_label(k) + " = " + parameter_text(v));
        out += params + ".";
    }
    out += "\n\n## Trials\n\n";

    std::vector<std::string> header = {"Trial", "Run"};
    std::string align = "rr";
    for (const auto& p : spec.parameters) {
        header.push_back(md::escape(parameter_label(p.name)));
        align += 'r';
    }
    if (spec.seeds > 1) header.push_back("Seed"), align += 'r';
    for (const char* h : {"Objective", "Best step", "Steps", "Status", "Why"}) header.push_back(h);
    align += "rrrll";
    std::vector<std::vector<std::string>> rows;
    for (std::size_t i = 0; i < view.trials.size(); ++i) {
        const auto& t = view.trials[i];
        std::vector<std::string> r = {
            std::to_string(t.record.trial + 1) + (view.best == i ? " ★" : ""),
            t.record.run_id ? std::to_string(*t.record.run_id) : "–"};
        for (const auto& p : spec.parameters)
            r.push_back(t.params.contains(p.name) ? md::escape(parameter_text(t.params[p.name]))
                                                  : "–");
        if (spec.seeds > 1) r.push_back(std::to_string(t.seed));
        r.push_back(objective_text(t.objective));
        r.push_back(t.best_step >= 0 ? md::commas(t.best_step) : "–");
        r.push_back(md::commas(t.steps_done));
        r.push_back(t.record.status);
        r.push_back(md::escape(t.record.status == "completed" ? "" : t.record.reason));
        rows.push_back(std::move(r));
    }
    out += md::table(header, rows, align) + "\n";

    if (spec.seeds > 1) {
        out +=
            "## Configurations over seeds\n\nMean ± sample standard deviation of the "
            "objective over the trials that differ only by seed.\n\n";
        std::vector<std::string> h;
        std::string a;
        for (const auto& p : spec.parameters)
            h.push_back(md::escape(parameter_label(p.name))), a += 'r';
        h.insert(h.end(), {"Trials", "Mean", "± std"});
        a += "rrr";
        std::vector<std::vector<std::string>> rs;
        for (const auto& c : summarize_configurations(view)) {
            std::vector<std::string> r;
            for (const auto& p : spec.parameters)
                r.push_back(c.params.contains(p.name) ? md::escape(parameter_text(c.params[p.name]))
                                                      : "–");
            r.push_back(std::to_string(c.measured) + " of " + std::to_string(c.trials.size()));
            r.push_back(c.measured ? md::fixed(c.mean, 4) : "–");
            r.push_back(c.measured > 1 ? md::fixed(c.stddev, 4) : "–");
            rs.push_back(std::move(r));
        }
        out += md::table(h, rs, a) + "\n";
    }

    out +=
        "## Charts\n\nEach line is a trial, through its value on every parameter's axis and "
        "its objective (log axes for log ranges); the best trial is drawn thick.\n\n";
    const auto image = options.image_prefix + "-parallel.png";
    report.images.push_back(
        {image, render_parallel_coordinates(view, options.chart_width, options.chart_height + 60)});
    out += "![parallel coordinates](" + image + ")\n\n";
    for (std::size_t k = 0; k < spec.parameters.size(); ++k)
        out += add_chart(report, options, "param-" + std::to_string(k + 1),
                         parameter_chart(view, k, options.chart_width, options.chart_height)) +
               "\n\n";

    if (spec.early_stopping()) {
        out +=
            "## Stopping decisions\n\nTaken from the stored validation metrics when a trial "
            "reached a rung: it goes on when it ranks among the best ⌊n / " +
            std::to_string(spec.reduction) + "⌋ of the n trials that reached that rung.\n\n";
        std::vector<std::vector<std::string>> rs;
        for (const auto& t : view.trials) {
            for (const auto& d : json::parse(t.record.decisions)) {
                rs.push_back(
                    {std::to_string(t.record.trial + 1), std::to_string(d.value("rung", 0)),
                     md::commas(d.value("step", std::int64_t{0})),
                     md::fixed(d.value("value", 0.0), 4),
                     std::to_string(d.value("rank", 0)) + " of " + std::to_string(d.value("of", 0)),
                     std::to_string(d.value("kept", 0)), d.value("action", "")});
            }
        }
        out += rs.empty()
                   ? std::string("No trial reached a rung with a decision.\n")
                   : md::table({"Trial", "Rung", "Step", "Objective", "Rank", "Go on", "Decision"},
                               rs, "rrrrrrl");
        out += "\n";
    }
    return report;
}

}  // namespace itera
