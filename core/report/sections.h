#pragma once
// Pieces shared by the three kinds of report (internal to core/report).

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"
#include "report/chart.h"
#include "report/report.h"

namespace itera::report_detail {

/// A run with its settings parsed and its training summarised from the
/// stored metric points.
struct RunFacts {
    RunRecord run;
    nlohmann::json config;   ///< the run settings (null when unparsable)
    nlohmann::json dataset;  ///< the data identity (null when unparsable)
    std::optional<ModelConfig> model;
    std::vector<MetricPoint> points;
    std::int64_t steps = 0, tokens = 0;
    double wall_s = 0;
    std::optional<MetricPoint> final_train, final_val, best_val, best_ppl, best_bpb;
};

RunFacts load_run(RunStore& store, std::int64_t id);

/// Points of metric `name`: x = step, or tokens when `by_tokens`.
ChartSeries metric_series(const RunFacts& f, const std::string& name, bool by_tokens);

/// "3 “quality moby-dick”".
std::string run_label(const RunRecord& r);

/// The environment a report prints: the one in `options` or this machine's.
ReportEnvironment environment_of(const ReportOptions& options);

/// "Generated ..." line and the environment table (the report's machine, and
/// what each run recorded about its build).
std::string environment_section(const ReportEnvironment& env, const std::vector<RunFacts>& runs);

/// Renders `chart` into report.images as "<prefix>-<suffix>.png" and returns
/// the Markdown image link.
std::string add_chart(Report& report, const ReportOptions& options, const std::string& suffix,
                      Chart chart);

/// The measured compressions table (newest record per file), and the
/// size/quality chart when at least one was evaluated.
std::string compression_section(Report& report, const ReportOptions& options,
                                const std::vector<CompressionRecord>& records);

/// The playground comparisons of a report, and the appendix that holds the
/// outputs too long to show whole (empty when none is); the appendix goes at
/// the report's end.
struct ComparisonsSection {
    std::string body, appendix;
};

/// Playground comparisons (two models, one prompt) involving a model for
/// which `involves(run_id, model_path)` holds, newest first. An output longer
/// than a few hundred characters is shown clipped, whole in the appendix.
ComparisonsSection comparisons_section(
    RunStore& store,
    const std::function<bool(std::optional<std::int64_t>, const std::string&)>& involves);

}  // namespace itera::report_detail
