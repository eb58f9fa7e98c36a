#pragma once
// A sweep's charts, drawn without Qt for reports: parallel coordinates (one
// axis per varied parameter and the objective) and each parameter against
// the objective.

#include <cstddef>

#include "report/chart.h"
#include "report/raster.h"
#include "report/sweep_view.h"

namespace itera {

/// One line per trial with an objective, through each parameter's axis
/// position (log axes for log ranges, a list's values evenly spaced) and the
/// objective's (lower values lower); the best trial thick and dark, the others
/// coloured from good (blue) to poor (orange).
Raster render_parallel_coordinates(const SweepView& view, int width, int height);

/// Parameter `k` (x; its base-10 logarithm for a log range, the value's index
/// for a list of non-numbers) against the objective (y), one marker per
/// trial, the best one its own series.
Chart parameter_chart(const SweepView& view, std::size_t k, int width, int height);

}  // namespace itera
