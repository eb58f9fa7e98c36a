#include <cmath>

#include "model/tensor_names.h"
#include "report/markdown.h"
#include "report/sections.h"
#include "util/build_info.h"
#include "util/system_info.h"
#include "util/time_text.h"

namespace itera {

ReportEnvironment current_environment() {
    ReportEnvironment env;
    env.generated_at = utc_now("%Y-%m-%d %H:%M UTC");
    env.cpu = cpu_model();
    env.cores = logical_cores();
    env.blas = blas_library();
    env.versions = library_versions();
    env.git_revision = git_revision();
    return env;
}

namespace report_detail {
namespace {

nlohmann::json parse_or_null(const std::string& text) {
    try {
        return nlohmann::json::parse(text);
    } catch (const std::exception&) {
        return nullptr;
    }
}

}  // namespace

RunFacts load_run(RunStore& store, std::int64_t id) {
    RunFacts f;
    f.run = store.run(id);
    f.config = parse_or_null(f.run.config_json);
    f.dataset = parse_or_null(f.run.dataset);
    if (f.config.is_object() && f.config.contains("model")) {
        try {
            f.model = ModelConfig::from_json(f.config["model"].dump());
        } catch (const std::exception&) {
            f.model.reset();  // reported as "not recorded"
        }
    }
    f.points = store.metrics(id);
    for (const auto& p : f.points) {
        if (!std::isfinite(p.value)) continue;
        f.wall_s = std::max(f.wall_s, p.wall_s);
        if (p.name == "train_loss") {
            f.final_train = p;
            f.steps = std::max(f.steps, p.step);
            f.tokens = std::max(f.tokens, p.tokens);
        } else if (p.name == "val_loss") {
            f.final_val = p;
            if (!f.best_val || p.value < f.best_val->value) f.best_val = p;
        } else if (p.name == "val_perplexity") {
            if (!f.best_ppl || p.value < f.best_ppl->value) f.best_ppl = p;
        } else if (p.name == "val_bits_per_byte") {
            if (!f.best_bpb || p.value < f.best_bpb->value) f.best_bpb = p;
        }
    }
    return f;
}

ChartSeries metric_series(const RunFacts& f, const std::string& name, bool by_tokens) {
    ChartSeries s;
    for (const auto& p : f.points)
        if (p.name == name) {
            s.x.push_back(static_cast<double>(by_tokens ? p.tokens : p.step));
            s.y.push_back(p.value);
        }
    return s;
}

std::string run_label(const RunRecord& r) {
    return std::to_string(r.id) + " “" + md::escape(r.name) + "”";
}

ReportEnvironment environment_of(const ReportOptions& options) {
    return options.environment ? *options.environment : current_environment();
}

std::string environment_section(const ReportEnvironment& env, const std::vector<RunFacts>& runs) {
    std::string out = "## Environment\n\n";
    out += md::table({"", "Value"},
                     {{"CPU (this report's machine)", md::escape(env.cpu)},
                      {"Logical cores", std::to_string(env.cores)},
                      {"BLAS behind LibTorch", md::escape(env.blas)},
                      {"Report generated with", md::escape(env.versions)},
                      {"Workbench revision", md::escape(env.git_revision)}},
                     "ll");
    out += "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : runs) {
        std::string threads = "–";
        if (f.config.is_object() && f.config.contains("threads") &&
            f.config["threads"].is_number_integer()) {
            const int t = f.config["threads"].get<int>();
            threads = t > 0 ? std::to_string(t) : "all cores";
        }
        rows.push_back({run_label(f.run), md::escape(f.run.library_versions),
                        md::escape(f.run.git_revision), threads});
    }
    out += md::table({"Run", "Trained with", "Revision", "Threads"}, rows, "llll");
    return out + "\n";
}

std::string add_chart(Report& report, const ReportOptions& options, const std::string& suffix,
                      Chart chart) {
    chart.width = options.chart_width;
    chart.height = options.chart_height;
    const std::string file = options.image_prefix + "-" + suffix + ".png";
    report.images.push_back({file, render_chart(chart)});
    return "![" + md::escape(chart.title) + "](" + file + ")\n\n";
}

}  // namespace report_detail
}  // namespace itera
