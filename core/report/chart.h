#pragma once
// Line and scatter charts rendered to a Raster: the loss, perplexity and
// learning-rate curves of a report and the size/quality plane of compressed
// models. Plain data in, pixels out; no Qt.

#include <string>
#include <vector>

#include "report/raster.h"

namespace itera {

struct ChartSeries {
    std::string name;  ///< shown in the legend when a chart has several series
    Rgb color = 0x0072b2;  ///< the first run colour (util/palette.h)
    std::vector<double> x, y;  ///< points with a non-finite coordinate are skipped
    bool line = true;
    bool markers = false;
    double width = 1.5;
};

struct Chart {
    std::string title, x_label, y_label;
    bool log_y = false;  ///< values <= 0 are skipped on a log axis
    std::vector<ChartSeries> series;
    int width = 800, height = 360;
};

/// The chart as an image; a chart without drawable points says "no data".
Raster render_chart(const Chart& chart);

/// Tick positions at 1, 2 or 5 times a power of ten covering [lo, hi],
/// about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target);

/// `v` written with as many decimals as the tick step needs ("0.5", "1.5k", "2M").
std::string tick_label(double v, double step, double magnitude);

/// The i-th run's colour, the workbench's own (util/palette.h).
Rgb series_color(std::size_t i);

}  // namespace itera
