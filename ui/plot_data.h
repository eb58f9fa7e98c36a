#pragma once
// What a chart draws from a metric's points, kept free of widgets so it can be
// tested: exponential smoothing over every point, and a per-pixel min/max
// envelope so a series with more points than pixels is drawn whole (every
// spike stays visible) instead of being thinned by dropping points.

#include <QVector>

namespace itera::ui {

/// Exponential moving average with bias correction (the first values are not
/// pulled towards 0): s_i = Σ_j≤i w^(i-j) y_j (1-w) / (1 - w^(i+1)).
/// `weight` in [0, 1): 0 returns `y` unchanged.
QVector<double> smoothed(const QVector<double>& y, double weight);

/// Extends `out`, which holds smoothed(y[0, out.size()), weight), to all of
/// `y`: live data is smoothed incrementally, with the same result.
void appendSmoothed(QVector<double>& out, const QVector<double>& y, double weight);

struct Polyline {
    QVector<double> x, y;
};

/// The points of (x, y) (x ascending) inside [x0, x1] (plus one neighbour on
/// each side, so lines run to the edges), reduced to at most four points per
/// pixel column of `pixels` columns: first, min, max, last of the column, in
/// x order. Returns the points unchanged when they already fit.
Polyline envelope(const QVector<double>& x, const QVector<double>& y, double x0, double x1,
                  int pixels);

/// Index of the point whose x is nearest to `x` (x ascending), -1 when empty.
int nearestIndex(const QVector<double>& x, double at);

}  // namespace itera::ui
