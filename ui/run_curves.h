#pragma once
// The metric history of the runs a dashboard shows: every point, by metric
// name, with all three x coordinates (step, tokens seen, wall time), and the
// smoothed values cached so live points are smoothed incrementally.

#include <QColor>
#include <QString>
#include <QVector>

#include <map>
#include <vector>

#include "store/run_store.h"

namespace itera::ui {

enum class XAxis { Step = 0, Tokens = 1, WallTime = 2 };

struct MetricSeries {
    QVector<double> step, tokens, wall, value;
    QVector<double> smooth;  ///< smoothed(value, smoothWeight), possibly shorter: extend
    double smoothWeight = -1;

    const QVector<double>& x(XAxis axis) const;
    /// The smoothed values for `weight`, computed incrementally.
    const QVector<double>& smoothed(double weight);
    /// Adds a point; a point at an earlier step than the last one replaces the
    /// history from that step on (a resumed run recomputes those steps).
    void add(const MetricPoint& p);
};

struct RunCurves {
    qint64 id = 0;
    QString name;
    QColor color;
    std::map<QString, MetricSeries> metrics;
    /// The model layer of each mixture-of-experts layer, in the order of the
    /// metrics' <layer> (the first MoE layer is model layer 1 by default).
    std::vector<int> moeLayers;

    void add(const std::vector<MetricPoint>& points);
    /// Layers and experts of the "expert_load.<layer>.<expert>" metrics.
    int expertLayers() const;
    int experts() const;
};

/// The colour of the i-th run shown (a palette that reads on white and is
/// distinguishable for common colour-vision deficiencies).
QColor runColor(int i);
/// A compression method's colour, the same wherever it is drawn.
QColor methodColor(const QString& method);
/// Expert i of n (a ramp that does not reuse the run colours).
QColor expertColor(int i, int n);

}  // namespace itera::ui
