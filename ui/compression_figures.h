#pragma once
// The figures of a compression report as the inspector's table and charts
// read them: NaN where a figure was not measured. Internal to the page.

#include <limits>

#include "compress/compression_report.h"

namespace itera::ui::compression_figures {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

/// A quality figure of a report, NaN when quality was not measured.
inline double quality(const CompressionReport& r, double QualityReport::*field) {
    return r.quality ? (*r.quality).*field : kNone;
}

/// A speed figure of a report, NaN when speed was not measured.
inline double speed(const CompressionReport& r, double SpeedReport::*field) {
    return r.speed ? (*r.speed).*field : kNone;
}

inline double ratioOf(const CompressionReport& r) {
    return r.ratio > 0 ? r.ratio : kNone;
}

}  // namespace itera::ui::compression_figures
