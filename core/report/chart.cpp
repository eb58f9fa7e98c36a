#include "report/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "util/palette.h"

namespace itera {
namespace {

constexpr Rgb kText = 0x202020, kAxis = 0x606060, kGrid = 0xe4e4e4, kMuted = 0x707070;

struct Range {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    void add(double v) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    bool empty() const { return !(lo <= hi); }
};

/// An axis maps data values to pixels; a log axis works on log10 of the values.
struct Axis {
    double lo, hi;  ///< in axis units (log10 for a log axis)
    bool log;
    double to_units(double v) const { return log ? std::log10(v) : v; }
};

bool usable(double v, bool log) {
    return std::isfinite(v) && (!log || v > 0);
}

std::vector<double> log_ticks(double lo, double hi) {
    // lo, hi in log10 units. Whole decades when the range is wide; 1-2-5 within
    // a few decades; plain linear ticks inside one decade.
    std::vector<double> ticks;
    const double span = hi - lo;
    if (span < 0.5) {
        for (double v : nice_ticks(std::pow(10, lo), std::pow(10, hi), 5)) ticks.push_back(v);
        return ticks;
    }
    const int first = static_cast<int>(std::floor(lo)), last = static_cast<int>(std::ceil(hi));
    for (int e = first; e <= last; ++e)
        for (double m : span > 3 ? std::vector<double>{1} : std::vector<double>{1, 2, 5}) {
            const double v = m * std::pow(10, e);
            if (std::log10(v) >= lo - 1e-9 && std::log10(v) <= hi + 1e-9) ticks.push_back(v);
        }
    return ticks;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
    std::vector<double> ticks;
    if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo || target < 1) return ticks;
    if (hi == lo) return {lo};
    const double raw = (hi - lo) / target;
    const double power = std::pow(10, std::floor(std::log10(raw)));
    double step = power;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (raw <= m * power * 1.0000001) {
            step = m * power;
            break;
        }
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
        ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    return ticks;
}

std::string tick_label(double v, double step, double magnitude) {
    const char* suffix = "";
    double scale = 1;
    if (magnitude >= 1e6) {
        scale = 1e6;
        suffix = "M";
    } else if (magnitude >= 1e4) {
        scale = 1e3;
        suffix = "k";
    }
    const double s = step / scale;
    const int decimals =
        s > 0 ? std::max(0, static_cast<int>(-std::floor(std::log10(s) + 1e-9))) : 0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f%s", std::min(decimals, 8), v / scale, suffix);
    return buf;
}

Rgb series_color(std::size_t i) {
    return run_colour(i);
}

Raster render_chart(const Chart& chart) {
    Raster img(chart.width, chart.height);
    const int line_height = Raster::text_ascent() + Raster::text_descent() + 4;
    int top = 8 + line_height;
    img.text((chart.width - Raster::text_width(chart.title, true)) / 2, 8 + Raster::text_ascent(),
             chart.title, kText, true);
    if (!chart.y_label.empty()) top += line_height;

    // The legend: one row of entries right-aligned under the title (wrapped
    // when long), so it never hides a point.
    std::vector<const ChartSeries*> named;
    for (const auto& s : chart.series)
        if (!s.name.empty()) named.push_back(&s);
    if (named.size() > 1) {
        constexpr int kSwatch = 22, kGap = 14;
        std::vector<std::vector<const ChartSeries*>> rows(1);
        int row_width = 0;
        for (const auto* s : named) {
            const int w = kSwatch + 4 + Raster::text_width(s->name) + kGap;
            if (row_width + w > chart.width * 3 / 4 && !rows.back().empty()) {
                rows.emplace_back();
                row_width = 0;
            }
            rows.back().push_back(s);
            row_width += w;
        }
        const int first_baseline = 8 + Raster::text_ascent() + line_height;
        if (chart.y_label.empty()) top += line_height;
        top += line_height * static_cast<int>(rows.size() - 1);
        for (std::size_t r = 0; r < rows.size(); ++r) {
            int w = 0;
            for (const auto* s : rows[r]) w += kSwatch + 4 + Raster::text_width(s->name) + kGap;
            int x0 = chart.width - 18 - w + kGap;
            const int base = first_baseline + static_cast<int>(r) * line_height;
            const double mid = base - Raster::text_ascent() / 2.0;
            for (const auto* s : rows[r]) {
                if (s->line) img.line(x0, mid, x0 + kSwatch, mid, s->color, 2);
                if (s->markers || !s->line) img.disc(x0 + kSwatch / 2.0, mid, 3.0, s->color);
                x0 = img.text(x0 + kSwatch + 4, base, s->name, kText) + kGap;
            }
        }
    }

    Range xr, yr;
    for (const auto& s : chart.series)
        for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
            if (usable(s.x[i], false) && usable(s.y[i], chart.log_y)) {
                xr.add(s.x[i]);
                yr.add(s.y[i]);
            }
    const int bottom = chart.height - 2 * line_height - 6;
    if (xr.empty() || bottom - top < 20) {
        const char* msg = "no data";
        img.text((chart.width - Raster::text_width(msg)) / 2, chart.height / 2, msg, kMuted);
        return img;
    }

    Axis x{xr.lo, xr.hi, false}, y{Axis{0, 0, chart.log_y}.to_units(yr.lo),
                                   Axis{0, 0, chart.log_y}.to_units(yr.hi), chart.log_y};
    const bool markers = std::any_of(chart.series.begin(), chart.series.end(),
                                     [](const ChartSeries& s) { return s.markers; });
    if (markers && x.hi > x.lo) {  // room for the discs at both ends
        const double pad = (x.hi - x.lo) * 0.02;
        x.lo -= pad;
        x.hi += pad;
    }
    if (x.hi == x.lo) {
        x.lo -= std::max(1.0, std::abs(x.lo) * 0.1);
        x.hi += std::max(1.0, std::abs(x.hi) * 0.1);
    }
    if (y.hi == y.lo) {
        const double pad = std::max(chart.log_y ? 0.1 : 1e-12, std::abs(y.lo) * 0.1);
        y.lo -= pad;
        y.hi += pad;
    } else {
        const double pad = (y.hi - y.lo) * 0.05;
        y.lo -= pad;
        y.hi += pad;
    }
    const auto y_ticks = chart.log_y ? log_ticks(y.lo, y.hi) : nice_ticks(y.lo, y.hi, 5);
    const auto x_ticks = nice_ticks(x.lo, x.hi, 6);
    const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : std::abs(y.hi - y.lo);
    const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : std::abs(x.hi - x.lo);
    const double y_mag = std::max(std::abs(yr.lo), std::abs(yr.hi));
    const double x_mag = std::max(std::abs(x.lo), std::abs(x.hi));
    auto y_label = [&](double v) {
        // Log ticks 1-2-5: each label carries the decimals its own value needs.
        return chart.log_y && y_ticks.size() > 1 && y_ticks[1] / y_ticks[0] > 1.5
                   ? tick_label(v, v, y_mag)
                   : tick_label(v, y_step, y_mag);
    };
    int label_width = 0;
    for (double v : y_ticks) label_width = std::max(label_width, Raster::text_width(y_label(v)));
    const int left = 14 + label_width, right = chart.width - 18;
    if (right - left < 20) return img;

    auto px = [&](double v) { return left + (v - x.lo) / (x.hi - x.lo) * (right - left); };
    auto py = [&](double v) {
        return bottom - (y.to_units(v) - y.lo) / (y.hi - y.lo) * (bottom - top);
    };

    // Grid, ticks and their labels.
    const int baseline_shift = Raster::text_ascent() / 2;
    for (double v : y_ticks) {
        const int yy = static_cast<int>(std::lround(py(v)));
        if (yy < top || yy > bottom) continue;
        img.fill_rect(left, yy, right - left, 1, kGrid);
        const auto label = y_label(v);
        img.text(left - 6 - Raster::text_width(label), yy + baseline_shift, label, kAxis);
    }
    for (double v : x_ticks) {
        const int xx = static_cast<int>(std::lround(px(v)));
        img.fill_rect(xx, top, 1, bottom - top, kGrid);
        img.fill_rect(xx, bottom, 1, 4, kAxis);
        const auto label = tick_label(v, x_step, x_mag);
        img.text(xx - Raster::text_width(label) / 2, bottom + 6 + Raster::text_ascent(), label,
                 kAxis);
    }
    img.fill_rect(left, top, 1, bottom - top + 1, kAxis);
    img.fill_rect(left, bottom, right - left + 1, 1, kAxis);
    if (!chart.y_label.empty()) img.text(left - 6 - label_width + 2, top - 8, chart.y_label, kText);
    if (!chart.x_label.empty())
        img.text((left + right - Raster::text_width(chart.x_label)) / 2,
                 chart.height - 6 - Raster::text_descent(), chart.x_label, kText);

    // The series, in order (later ones on top).
    for (const auto& s : chart.series) {
        std::vector<double> xs, ys;
        for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
            if (usable(s.x[i], false) && usable(s.y[i], chart.log_y)) {
                xs.push_back(px(s.x[i]));
                ys.push_back(py(s.y[i]));
            }
        if (s.line) img.polyline(xs, ys, s.color, s.width);
        if (s.markers || xs.size() == 1)
            for (std::size_t i = 0; i < xs.size(); ++i) img.disc(xs[i], ys[i], 3.0, s.color);
    }

    return img;
}

}  // namespace itera
