#pragma once
// A sweep's trials in parallel coordinates: one vertical axis per varied
// parameter (log axes for log ranges) and one for the objective, one line per
// trial. Dragging along an axis selects a range there (brushing); the trials
// inside every brushed range are the "selected" ones, which the Sweeps page's
// table then shows alone. A click on an axis without dragging clears its brush.

#include <QWidget>

#include <optional>
#include <set>
#include <vector>

#include "report/sweep_view.h"

namespace itera::ui {

class ParallelCoordinates : public QWidget {
    Q_OBJECT
public:
    explicit ParallelCoordinates(QWidget* parent = nullptr);

    void setView(const SweepView& view);
    /// The trials (indices into the view's trials) inside every brush; all
    /// trials with an objective when nothing is brushed.
    std::set<std::size_t> selected() const;
    /// Brushes axis `axis` (the objective is the last) between positions
    /// `lo` and `hi` in [0, 1] of its height from the bottom; clears it when
    /// lo == hi.
    void setBrush(int axis, double lo, double hi);
    int axisCount() const { return static_cast<int>(m_axes.size()); }
    QSize sizeHint() const override { return {520, 260}; }
    QSize minimumSizeHint() const override { return {240, 160}; }

Q_SIGNALS:
    void selectionChanged();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    struct Axis {
        QString name, low, high;
        std::vector<std::optional<double>> position;  ///< per trial, in [0, 1]
        std::optional<std::pair<double, double>> brush;
    };
    QRectF plotArea() const;
    double axisX(int axis) const;
    int axisAt(double x) const;
    double positionAt(double y) const;

    std::vector<Axis> m_axes;
    std::vector<double> m_goodness;  ///< per trial, 1 = the best
    std::optional<std::size_t> m_best;
    int m_dragAxis = -1;
    double m_dragFrom = 0;
};

}  // namespace itera::ui
