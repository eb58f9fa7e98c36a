#pragma once
// The training dashboard: a grid of charts (loss, perplexity, bits/byte,
// learning rate, tokens/s, gradient norm, load-balancing loss, expert load)
// for one run or several overlaid, with the x axis (step, tokens, wall time),
// log scale and smoothing chosen above them. Data arrives whenever it likes;
// the charts repaint on a 30 Hz timer, only when something changed.

#include <QTimer>
#include <QWidget>

#include <vector>

#include "metric_chart.h"
#include "run_curves.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;

namespace itera::ui {

class ChartPanel : public QWidget {
    Q_OBJECT
public:
    explicit ChartPanel(QWidget* parent = nullptr);

    /// Shows these runs, overlaid in this order, replacing those shown.
    void showRuns(std::vector<RunCurves> runs);
    /// Adds live points to run `id` when it is shown.
    void appendPoints(qint64 id, const std::vector<MetricPoint>& points);
    bool showsRun(qint64 id) const;
    /// The last step of any metric of run `id` shown (0 when none).
    qint64 lastStep(qint64 id) const;
    const RunCurves* curves(qint64 id) const;
    const std::vector<MetricChart*>& charts() const { return m_charts; }
    std::vector<RunCurves>& shownRuns() { return m_runs; }

    void setXAxis(XAxis axis);
    void setLogScale(bool on);
    /// EMA weight in [0, 0.999].
    void setSmoothing(double weight);
    const ChartView& view() const { return m_view; }

    /// Rebuilds every chart and paints it now; returns the milliseconds it took.
    double replotNow();

private:
    void markDirty();
    void refresh();
    void updateExpertLayers();
    /// The other charts take `leader`'s x range (linked axes).
    void follow(MetricChart* leader);

    std::vector<RunCurves> m_runs;
    std::vector<MetricChart*> m_charts;
    ChartView m_view;
    bool m_dirty = false;
    QTimer m_repaintTimer;
    QLabel* m_placeholder = nullptr;
    QLabel* m_runsLegend = nullptr;
    QWidget* m_grid = nullptr;
    QComboBox* m_xAxis = nullptr;
    QCheckBox* m_logScale = nullptr;
    QCheckBox* m_linked = nullptr;
    QSlider* m_smoothing = nullptr;
    QLabel* m_smoothingValue = nullptr;
    QComboBox* m_expertLayer = nullptr;
};

}  // namespace itera::ui
