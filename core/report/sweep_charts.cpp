#include "report/sweep_charts.h"

#include <algorithm>
#include <cmath>

#include "sweep/samplers.h"
#include "util/error.h"

namespace itera {
namespace {

constexpr Rgb kText = 0x222222, kAxis = 0x888888, kBest = 0x000000;

Rgb mix(Rgb a, Rgb b, double t) {
    auto ch = [&](int shift) {
        const double x = ((a >> shift) & 0xff) * (1 - t) + ((b >> shift) & 0xff) * t;
        return static_cast<Rgb>(std::lround(x)) << shift;
    };
    return ch(16) | ch(8) | ch(0);
}

bool numeric_list(const SweepParameter& p) {
    return std::all_of(p.values.begin(), p.values.end(),
                       [](const auto& v) { return v.is_number(); });
}

}  // namespace

Raster render_parallel_coordinates(const SweepView& view, int width, int height) {
    Raster img(width, height);
    const auto& spec = view.spec;
    const int line = Raster::text_ascent() + Raster::text_descent() + 4;
    const std::string title = "Trials across parameters and " + spec.metric;
    img.text((width - Raster::text_width(title, true)) / 2, 8 + Raster::text_ascent(), title, kText,
             true);
    std::vector<std::size_t> shown;
    double lo = INFINITY, hi = -INFINITY;
    for (std::size_t i = 0; i < view.trials.size(); ++i) {
        if (!view.trials[i].objective) continue;
        shown.push_back(i);
        lo = std::min(lo, *view.trials[i].objective);
        hi = std::max(hi, *view.trials[i].objective);
    }
    const std::size_t axes = spec.parameters.size() + 1;
    // The outer axes' names are centred on them: room for half of each.
    const auto half_name = [&](const std::string& name) {
        return Raster::text_width(name, true) / 2.0 + 20;
    };
    const double left = std::max(60.0, spec.parameters.empty()
                                           ? 60.0
                                           : half_name(parameter_label(spec.parameters[0].name) +
                                                       (spec.parameters[0].log ? " (log)" : "")));
    const double right = width - std::max(60.0, half_name(spec.metric));
    const double top = 8 + 3.0 * line, bottom = height - 2.0 * line - 8;
    auto axis_x = [&](std::size_t a) {
        return axes < 2 ? (left + right) / 2 : left + (right - left) * a / (axes - 1.0);
    };
    auto axis_label = [&](std::size_t a, const std::string& name, const std::string& low,
                          const std::string& high) {
        const double x = axis_x(a);
        img.line(x, top, x, bottom, kAxis, 1.0);
        img.text(static_cast<int>(x - Raster::text_width(name, true) / 2.0),
                 static_cast<int>(top - line - 4), name, kText, true);
        img.text(static_cast<int>(x - Raster::text_width(high) / 2.0), static_cast<int>(top - 4),
                 high, kText);
        img.text(static_cast<int>(x - Raster::text_width(low) / 2.0),
                 static_cast<int>(bottom + line), low, kText);
    };
    for (std::size_t k = 0; k < spec.parameters.size(); ++k) {
        const auto& p = spec.parameters[k];
        const auto name = parameter_label(p.name) + (p.log ? " (log)" : "");
        if (p.is_range())
            axis_label(k, name, number_text(p.lo), number_text(p.hi));
        else
            axis_label(k, name, parameter_text(p.values.front()), parameter_text(p.values.back()));
    }
    const bool have = !shown.empty();
    axis_label(axes - 1, spec.metric, have ? number_text(lo) : "–", have ? number_text(hi) : "–");
    if (!have) {
        const std::string none = "no trial has a value yet";
        img.text((width - Raster::text_width(none)) / 2, height / 2, none, kText);
        return img;
    }
    auto y_of = [&](double pos) { return bottom - (bottom - top) * std::clamp(pos, 0.0, 1.0); };
    auto draw = [&](std::size_t i, Rgb color, double w) {
        const auto& t = view.trials[i];
        std::vector<double> xs, ys;
        for (std::size_t k = 0; k < spec.parameters.size(); ++k) {
            const auto& p = spec.parameters[k];
            xs.push_back(axis_x(k));
            ys.push_back(
                y_of(t.params.contains(p.name) ? axis_position(p, t.params[p.name]) : 0.5));
        }
        xs.push_back(axis_x(axes - 1));
        ys.push_back(y_of(hi > lo ? (*t.objective - lo) / (hi - lo) : 0.5));
        img.polyline(xs, ys, color, w);
        for (std::size_t k = 0; k < xs.size(); ++k) img.disc(xs[k], ys[k], w + 1.0, color);
    };
    // Poor trials first, so the good ones are drawn over them.
    std::sort(shown.begin(), shown.end(), [&](std::size_t a, std::size_t b) {
        const double va = *view.trials[a].objective, vb = *view.trials[b].objective;
        return spec.maximize ? va < vb : va > vb;
    });
    for (auto i : shown) {
        if (view.best == i) continue;
        double goodness = hi > lo ? (hi - *view.trials[i].objective) / (hi - lo) : 1.0;
        if (spec.maximize) goodness = 1 - goodness;
        draw(i, mix(0xe69f00, 0x0072b2, goodness), 1.2);
    }
    if (view.best) draw(*view.best, kBest, 2.5);
    return img;
}

Chart parameter_chart(const SweepView& view, std::size_t k, int width, int height) {
    const auto& p = view.spec.parameters.at(k);
    Chart c;
    c.width = width;
    c.height = height;
    const bool log_x = p.is_range() && p.log;
    const bool by_index = !p.is_range() && !numeric_list(p);
    const auto label = parameter_label(p.name);
    c.title = view.spec.metric + " against " + label;
    c.x_label = log_x ? "log10 " + label : by_index ? label + " (position in the list)" : label;
    c.y_label = view.spec.metric;
    ChartSeries all, best;
    all.name = "trials";
    all.line = false;
    all.markers = true;
    all.color = series_color(0);
    best.name = "best";
    best.line = false;
    best.markers = true;
    best.color = series_color(1);
    for (std::size_t i = 0; i < view.trials.size(); ++i) {
        const auto& t = view.trials[i];
        if (!t.objective || !t.params.contains(p.name)) continue;
        const auto& v = t.params[p.name];
        double x = 0;
        if (by_index) {
            x = axis_position(p, v) * static_cast<double>(p.values.size() - 1);
        } else if (v.is_number()) {
            x = v.get<double>();
            if (log_x) x = std::log10(x);
        } else {
            continue;
        }
        auto& s = view.best == i ? best : all;
        s.x.push_back(x);
        s.y.push_back(*t.objective);
    }
    c.series = {all, best};
    return c;
}

}  // namespace itera
