#pragma once
// One chart of the training dashboard: a QCustomPlot that draws some metrics
// of the shown runs. Every point is kept in the curves; what is drawn is each
// series' per-pixel envelope over the visible x range, raw values faint under
// the smoothed ones. The mouse pans and zooms (double-click returns to the
// automatic range); hovering shows the nearest values.

#include "qcustomplot_include.h"

#include <QStringList>

#include <vector>

#include "run_curves.h"

namespace itera::ui {

struct ChartView {
    XAxis axis = XAxis::Step;
    bool logScale = false;
    double smoothing = 0;  ///< EMA weight of dense metrics, [0, 1)
    int expertLayer = 0;
};

class MetricChart : public QCustomPlot {
    Q_OBJECT
public:
    /// `metrics` are metric names; "expert_load" stands for every expert of the view's layer.
    MetricChart(const QString& title, QStringList metrics, QWidget* parent = nullptr);

    const QString& title() const { return m_title; }
    /// Rebuilds the graphs from `runs` (drawn in this order) and queues a repaint.
    void rebuild(std::vector<RunCurves>& runs, const ChartView& view);
    /// Forgets the series the hover read-out points into (before they are destroyed).
    void forgetSeries() { m_hover.clear(); }
    /// Points drawn over all graphs (after the envelope), for tests and benchmarks.
    int drawnPoints() const;
    bool automaticRange() const { return m_autoRange; }
    /// Shows x range `range` (as the user's pan or zoom would), or the automatic range.
    void setXRange(const QCPRange& range);
    void setAutomaticRange();
    /// A vertical line at `x` (NaN: none), as another linked chart's pointer shows.
    void setCrosshair(double x);

    /// Every point of the series drawn, as CSV: series,step,tokens,wall_s,value.
    QString csv() const;
    /// Writes the chart as it is shown: PNG, SVG or PDF by the file's suffix.
    /// Returns an empty string, or what went wrong.
    QString saveImage(const QString& path);

Q_SIGNALS:
    /// The user panned or zoomed: the envelope must be recomputed.
    void userRangeChanged();
    /// The pointer is at x (NaN: it left the chart).
    void hovered(double x);

protected:
    void mousePressEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;

private:
    void fitTickCount();
    struct Hover {
        QString label;
        const MetricSeries* series;
        XAxis axis;
        double smoothing;
    };
    QCPGraph* addSeries(const QString& name, const QColor& color, MetricSeries& s,
                        const ChartView& view, bool sparse, bool dashed, double x0, double x1);

    QString m_title;
    QCPTextElement* m_titleElement = nullptr;
    QStringList m_metrics;
    bool m_autoRange = true;
    bool m_rebuilding = false;
    std::vector<Hover> m_hover;
    QCPItemStraightLine* m_crosshair = nullptr;
};

/// A readable name for a metric ("train_loss" → "train loss").
QString metricLabel(const QString& name);

}  // namespace itera::ui
