#include "run_curves.h"

#include <algorithm>

#include "plot_data.h"
#include "util/palette.h"

namespace itera::ui {

const QVector<double>& MetricSeries::x(XAxis axis) const {
    switch (axis) {
        case XAxis::Tokens:
            return tokens;
        case XAxis::WallTime:
            return wall;
        case XAxis::Step:
            break;
    }
    return step;
}

const QVector<double>& MetricSeries::smoothed(double weight) {
    if (weight != smoothWeight || smooth.size() > value.size()) {
        smooth.clear();
        smoothWeight = weight;
    }
    appendSmoothed(smooth, value, weight);
    return smooth;
}

void MetricSeries::add(const MetricPoint& p) {
    const double s = static_cast<double>(p.step);
    if (!step.isEmpty() && s <= step.back()) {
        const auto keep = std::lower_bound(step.begin(), step.end(), s) - step.begin();
        step.resize(keep);
        tokens.resize(keep);
        wall.resize(keep);
        value.resize(keep);
        if (smooth.size() > keep) smooth.resize(keep);
    }
    step.push_back(s);
    tokens.push_back(static_cast<double>(p.tokens));
    wall.push_back(p.wall_s);
    value.push_back(p.value);
}

void RunCurves::add(const std::vector<MetricPoint>& points) {
    for (const auto& p : points) metrics[QString::fromStdString(p.name)].add(p);
}

int RunCurves::expertLayers() const {
    int layers = 0;
    for (const auto& [name, series] : metrics)
        if (name.startsWith(QLatin1String("expert_load.")))
            layers = std::max(layers, name.section(QLatin1Char('.'), 1, 1).toInt() + 1);
    return layers;
}

int RunCurves::experts() const {
    int experts = 0;
    for (const auto& [name, series] : metrics)
        if (name.startsWith(QLatin1String("expert_load.")))
            experts = std::max(experts, name.section(QLatin1Char('.'), 2, 2).toInt() + 1);
    return experts;
}

QColor runColor(int i) {
    return QColor::fromRgb(run_colour(static_cast<std::size_t>(std::max(0, i))));
}

QColor methodColor(const QString& method) {
    return QColor::fromRgb(method_colour(method.toStdString()));
}

QColor expertColor(int i, int n) {
    return QColor::fromRgb(expert_colour(static_cast<std::size_t>(std::max(0, i)),
                                         static_cast<std::size_t>(std::max(1, n))));
}

}  // namespace itera::ui
