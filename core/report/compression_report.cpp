#include <filesystem>
#include <set>

#include "model/tensor_names.h"
#include "report/markdown.h"
#include "report/sections.h"
#include "util/error.h"

namespace itera {
namespace {

using namespace report_detail;

/// The same file however it was named (relative, through links); the plain
/// path when it no longer exists.
std::string same_file_key(const std::filesystem::path& p) {
    std::error_code ec;
    auto c = std::filesystem::weakly_canonical(p, ec);
    return ec ? p.lexically_normal().string() : c.string();
}

}  // namespace

Report compression_report(RunStore& store, const std::filesystem::path& checkpoint,
                          const ReportOptions& options) {
    const auto key = same_file_key(checkpoint);
    std::vector<CompressionRecord> records;
    for (auto& r : store.compressions())
        if (same_file_key(r.source_path) == key) records.push_back(std::move(r));
    if (records.empty())
        throw Error("no compressions of " + checkpoint.string() + " are stored in " +
                    store.path().string() + " (make one with itera compress " +
                    checkpoint.string() + " --method int8)");
    const auto env = environment_of(options);

    Report report;
    const auto file = checkpoint.filename().string();
    report.title = "Compression of " + file;
    std::string& out = report.markdown;
    out = "# Compression report: " + md::escape(file) + "\n\n";
    out += "Generated " + md::escape(env.generated_at) + ". Source checkpoint: `" +
           checkpoint.string() + "`";
    std::error_code ec;
    const auto size = std::filesystem::file_size(checkpoint, ec);
    out += ec ? " (no longer on disk)" : " (" + md::bytes(static_cast<std::int64_t>(size)) + ")";
    out += ".\n\n";

    std::vector<RunFacts> runs;
    std::optional<std::int64_t> run_id;
    for (const auto& r : records)
        if (r.run_id) run_id = r.run_id;
    if (run_id && store.find_run(*run_id)) {
        runs.push_back(load_run(store, *run_id));
        const auto& f = runs.back();
        out += "It comes from run " + run_label(f.run);
        if (f.model)
            out += " (preset " + md::escape(f.run.preset) + ", " +
                   md::commas(parameter_count(*f.model)) + " parameters";
        if (f.best_ppl) out += ", best validation perplexity " + md::fixed(f.best_ppl->value, 2);
        out += f.model ? ").\n\n" : ".\n\n";
    }
    out += compression_section(report, options, records);

    std::set<std::string> models = {key};
    for (const auto& r : records) models.insert(same_file_key(r.path));
    const auto comparisons =
        comparisons_section(store, [&](std::optional<std::int64_t>, const std::string& path) {
            return models.count(same_file_key(path)) > 0;
        });
    out += comparisons.body;
    out += environment_section(env, runs);
    out += comparisons.appendix;
    return report;
}

}  // namespace itera
