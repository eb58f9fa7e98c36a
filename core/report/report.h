#pragma once
// Markdown reports generated from the run store: one run, several runs side
// by side, or every compression of a checkpoint. Every figure in a report is
// read from stored data (metrics, checkpoints, measured compressions, saved
// generations); the prose around it only names what the figure is. Charts are
// PNG files written next to the Markdown and linked by relative path.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "report/raster.h"
#include "store/run_store.h"

namespace itera {

/// The machine and build a report was generated with.
struct ReportEnvironment {
    std::string generated_at;  ///< "2026-11-27 03:10 UTC"
    std::string cpu;
    int cores = 0;
    std::string blas;
    std::string versions;  ///< itera, LibTorch, SQLite
    std::string git_revision;
};

/// This machine, now.
ReportEnvironment current_environment();

struct ReportImage {
    std::string file_name;  ///< relative to the Markdown file
    Raster image;
};

struct Report {
    std::string title;
    std::string markdown;
    std::vector<ReportImage> images;
};

struct ReportOptions {
    /// Chart files are named "<image_prefix>-loss.png", ...: the Markdown
    /// file's stem keeps several reports in one folder apart.
    std::string image_prefix = "report";
    /// The environment to print (tests fix it); default: current_environment().
    std::optional<ReportEnvironment> environment;
    int chart_width = 800, chart_height = 360;
};

/// A training run: environment, data, model, settings, summary, curves,
/// checkpoints, its compressed models, playground comparisons and notes.
Report run_report(RunStore& store, std::int64_t run_id, const ReportOptions& options = {});

/// Two or more runs side by side: settings and results in one table, their
/// validation curves overlaid.
Report compare_report(RunStore& store, const std::vector<std::int64_t>& run_ids,
                      const ReportOptions& options = {});

/// Every stored compression of `checkpoint` (as passed to itera compress):
/// measured sizes, quality and speed, and the size/quality plane.
Report compression_report(RunStore& store, const std::filesystem::path& checkpoint,
                          const ReportOptions& options = {});

/// A sweep (docs/sweeps.md): its spec, every trial with its parameters,
/// objective and status, the mean over seeds, the stopping decisions with
/// their figures, parallel coordinates and each parameter against the
/// objective.
Report sweep_report(RunStore& store, std::int64_t sweep_id, const ReportOptions& options = {});

/// Writes the Markdown to `markdown_path` and the charts beside it, each file
/// atomically (a temporary file renamed into place).
void write_report(const Report& report, const std::filesystem::path& markdown_path);

/// The image prefix for a report written to `markdown_path` (its stem).
std::string image_prefix_for(const std::filesystem::path& markdown_path);

}  // namespace itera
