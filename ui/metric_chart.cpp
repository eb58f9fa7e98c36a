#include "metric_chart.h"

#include <QContextMenuEvent>
#include <QLocale>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <limits>

#include "duration_text.h"
#include "plot_data.h"
#include "plot_export.h"
#include "plot_legend.h"

namespace itera::ui {
namespace {

constexpr auto kExpertLoad = "expert_load";

bool isSparse(const QString& metric) {
    return metric.startsWith(QLatin1String("val_"));
}

QString axisTitle(XAxis axis) {
    switch (axis) {
        case XAxis::Tokens:
            return MetricChart::tr("tokens seen");
        case XAxis::WallTime:
            return MetricChart::tr("wall time (h:mm:ss)");
        case XAxis::Step:
            break;
    }
    return MetricChart::tr("step");
}

QString xText(XAxis axis, double x) {
    if (axis == XAxis::WallTime) {
        const auto s = static_cast<long long>(std::llround(x));
        return QStringLiteral("%1:%2:%3")
            .arg(s / 3600)
            .arg(s / 60 % 60, 2, 10, QLatin1Char('0'))
            .arg(s % 60, 2, 10, QLatin1Char('0'));
    }
    return QStringLiteral("%1 %2").arg(axisTitle(axis), QLocale().toString(x, 'f', 0));
}

/// Steps and tokens as people say them: 500, 2.5k, 1.2M.
class CountTicker : public QCPAxisTicker {
protected:
    QString getTickLabel(double tick, const QLocale& locale, QChar, int) override {
        return countText(tick, locale);
    }
};

/// Wall time as h:mm:ss, or m:ss below an hour.
class ClockTicker : public QCPAxisTicker {
protected:
    QString getTickLabel(double tick, const QLocale&, QChar, int) override {
        const auto s = static_cast<long long>(std::llround(std::abs(tick)));
        const auto sign = tick < 0 ? QStringLiteral("−") : QString();
        if (s < 3600)
            return sign + QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
        return sign + QStringLiteral("%1:%2:%3")
                          .arg(s / 3600)
                          .arg(s / 60 % 60, 2, 10, QLatin1Char('0'))
                          .arg(s % 60, 2, 10, QLatin1Char('0'));
    }
    // Steps of whole seconds, minutes or hours that read well.
    double getTickStep(const QCPRange& range) override {
        const double raw = range.size() / std::max(1, tickCount());
        for (double step : {1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0,
                            1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0})
            if (step >= raw) return step;
        return std::ceil(raw / 86400) * 86400;
    }
};

}  // namespace

QString metricLabel(const QString& name) {
    if (name == QLatin1String("train_loss")) return MetricChart::tr("train loss");
    if (name == QLatin1String("val_loss")) return MetricChart::tr("validation");
    if (name == QLatin1String("val_perplexity")) return MetricChart::tr("perplexity");
    if (name == QLatin1String("val_bits_per_byte")) return MetricChart::tr("bits/byte");
    if (name == QLatin1String("lr")) return MetricChart::tr("learning rate");
    if (name == QLatin1String("tokens_per_s")) return MetricChart::tr("tokens/s");
    if (name == QLatin1String("grad_norm")) return MetricChart::tr("gradient norm");
    if (name == QLatin1String("aux_loss")) return MetricChart::tr("load-balancing loss");
    if (name.startsWith(QLatin1String("expert_load.")))  // short: a legend row of them fits
        return MetricChart::tr("E%1").arg(name.section(QLatin1Char('.'), 2, 2));
    return name;
}

MetricChart::MetricChart(const QString& title, QStringList metrics, QWidget* parent)
    : QCustomPlot(parent), m_title(title), m_metrics(std::move(metrics)) {
    setObjectName(QStringLiteral("chart:") + m_metrics.join(QLatin1Char(',')));
    setMinimumSize(220, 170);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    axisRect()->setRangeZoom(Qt::Horizontal);
    setNoAntialiasingOnDrag(true);
    setPlottingHints(QCP::phCacheLabels | QCP::phFastPolylines);
    plotLayout()->insertRow(0);
    auto titleFont = font();
    titleFont.setBold(true);
    m_titleElement = new QCPTextElement(this, m_title, titleFont);
    plotLayout()->addElement(0, 0, m_titleElement);
    auto small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    xAxis->setTickLabelFont(small);
    yAxis->setTickLabelFont(small);
    xAxis->setLabelFont(small);
    legend->setFont(small);
    legend->setBrush(QColor(255, 255, 255, 220));
    legend->setBorderPen(QPen(QColor(0, 0, 0, 60)));
    legend->setRowSpacing(0);
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    // Expert loads crowd the middle of the chart: their legend goes under it.
    if (m_metrics.front() == QLatin1String(kExpertLoad)) placeLegendBelow(this, 8);
    connect(xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this] {
        if (!m_rebuilding) Q_EMIT userRangeChanged();
    });
}

QCPGraph* MetricChart::addSeries(const QString& name, const QColor& color, MetricSeries& s,
                                 const ChartView& view, bool sparse, bool dashed, double x0,
                                 double x1) {
    const auto& xs = s.x(view.axis);
    const int pixels = std::max(50, axisRect()->width());
    auto draw = [&](const QVector<double>& ys, const QPen& pen) {
        auto* g = addGraph();
        const auto line = envelope(xs, ys, x0, x1, pixels);
        g->setData(line.x, line.y, true);
        g->setPen(pen);
        g->setAdaptiveSampling(false);  // the envelope already is per pixel
        return g;
    };
    if (sparse) {
        QPen pen(color, 1.4, dashed ? Qt::DashLine : Qt::SolidLine);
        auto* g = draw(s.value, pen);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, Qt::white, 5));
        g->setName(name);
        return g;
    }
    const bool smooth = view.smoothing > 0 && s.value.size() > 2;
    if (smooth) {
        QColor faint = color;
        faint.setAlpha(55);
        auto* raw = draw(s.value, QPen(faint, 1));
        raw->removeFromLegend();
        auto* g = draw(s.smoothed(view.smoothing), QPen(color, 1.6));
        g->setName(name);
        return g;
    }
    auto* g = draw(s.value, QPen(color, 1.3));
    g->setName(name);
    return g;
}

void MetricChart::rebuild(std::vector<RunCurves>& runs, const ChartView& view) {
    m_rebuilding = true;
    clearGraphs();
    m_hover.clear();
    yAxis->setScaleType(view.logScale ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (view.logScale) {
        if (!qSharedPointerDynamicCast<QCPAxisTickerLog>(yAxis->ticker()))
            yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    } else if (qSharedPointerDynamicCast<QCPAxisTickerLog>(yAxis->ticker())) {
        yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    }
    if (view.axis == XAxis::WallTime) {
        if (!qSharedPointerDynamicCast<ClockTicker>(xAxis->ticker()))
            xAxis->setTicker(QSharedPointer<ClockTicker>::create());
    } else if (!qSharedPointerDynamicCast<CountTicker>(xAxis->ticker())) {
        xAxis->setTicker(QSharedPointer<CountTicker>::create());
    }
    xAxis->setLabel(axisTitle(view.axis));
    fitTickCount();

    // The series to draw: (label, series, colour, sparse, dashed).
    struct Item {
        QString label;
        MetricSeries* series;
        QColor color;
        bool sparse, dashed;
    };
    std::vector<Item> items;
    const bool several = runs.size() > 1;
    for (std::size_t r = 0; r < runs.size(); ++r) {
        auto& run = runs[r];
        for (int m = 0; m < m_metrics.size(); ++m) {
            const auto& metric = m_metrics[m];
            if (metric == QLatin1String(kExpertLoad)) {
                if (r > 0) continue;  // one run's experts at a time
                for (int e = 0; e < run.experts(); ++e) {
                    const auto name =
                        QStringLiteral("expert_load.%1.%2").arg(view.expertLayer).arg(e);
                    auto it = run.metrics.find(name);
                    if (it == run.metrics.end()) continue;
                    items.push_back({metricLabel(name), &it->second, expertColor(e, run.experts()),
                                     false, false});
                }
                continue;
            }
            auto it = run.metrics.find(metric);
            if (it == run.metrics.end() || it->second.value.isEmpty()) continue;
            const auto label = several
                                   ? QStringLiteral("%1 · %2").arg(run.name, metricLabel(metric))
                                   : metricLabel(metric);
            const auto color = several ? run.color : runColor(m);
            items.push_back({label, &it->second, color, isSparse(metric), several && m > 0});
        }
    }

    double x0 = std::numeric_limits<double>::infinity(), x1 = -x0;
    for (const auto& it : items) {
        const auto& xs = it.series->x(view.axis);
        if (xs.isEmpty()) continue;
        x0 = std::min(x0, xs.front());
        x1 = std::max(x1, xs.back());
    }
    if (!m_autoRange) {
        x0 = xAxis->range().lower;
        x1 = xAxis->range().upper;
    }
    for (const auto& it : items) {
        addSeries(it.label, it.color, *it.series, view, it.sparse, it.dashed, x0, x1);
        m_hover.push_back({it.label, it.series, view.axis, it.sparse ? 0.0 : view.smoothing});
    }
    // One run: a legend names its metrics. Several: the panel's legend names the
    // runs (one colour each); here line styles tell train from validation.
    const bool experts = m_metrics.front() == QLatin1String(kExpertLoad);
    legend->setVisible(experts || (!several && m_metrics.size() > 1));
    auto title = m_title;
    if (several && experts) title = tr("Expert load, run %1").arg(runs.front().id);
    if (several && m_metrics.size() > 1)
        title += tr(" · dashed: %1").arg(metricLabel(m_metrics[1]));
    m_titleElement->setText(title);
    if (m_autoRange && items.empty()) {  // nothing yet: a neutral frame, not a made-up scale
        xAxis->setRange(0, 1);
        yAxis->setRange(view.logScale ? 0.1 : 0, 1);
    } else if (m_autoRange) {
        rescaleAxes();
        if (x1 <= x0) xAxis->setRange(x0 - 1, x1 + 1);
        const auto y = yAxis->range();
        // A single value (or a flat line): a band of ±5 % around it.
        const double pad = std::max(0.05 * y.size(), 0.05 * std::max(std::abs(y.upper), 1e-6));
        if (view.logScale)
            yAxis->setRange(y.lower / 1.1, y.upper * 1.1);
        else
            yAxis->setRange(y.lower - pad, y.upper + pad);
    }
    // A log axis shorter than a decade gets plain ticks: the log ticker would
    // label only powers of ten, none of which may lie in the range.
    if (view.logScale) {
        const auto y = yAxis->range();
        const bool decades = y.lower > 0 && y.upper / y.lower >= 20;
        if (decades && !qSharedPointerDynamicCast<QCPAxisTickerLog>(yAxis->ticker()))
            yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
        if (!decades && qSharedPointerDynamicCast<QCPAxisTickerLog>(yAxis->ticker()))
            yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    }
    fitTickCount();  // a new ticker starts from its own count
    m_rebuilding = false;
    replot(QCustomPlot::rpQueuedReplot);
}

int MetricChart::drawnPoints() const {
    int n = 0;
    for (int i = 0; i < graphCount(); ++i) n += graph(i)->dataCount();
    return n;
}

void MetricChart::fitTickCount() {
    // About one label per 90 pixels, so time and token labels never overlap.
    const int n = std::clamp(axisRect()->width() / 90, 2, 7);
    xAxis->ticker()->setTickCount(n);
    yAxis->ticker()->setTickCount(std::clamp(axisRect()->height() / 40, 2, 6));
}

void MetricChart::resizeEvent(QResizeEvent* event) {
    QCustomPlot::resizeEvent(event);
    fitTickCount();
}

void MetricChart::mousePressEvent(QMouseEvent* event) {
    m_autoRange = false;
    QCustomPlot::mousePressEvent(event);
}

void MetricChart::wheelEvent(QWheelEvent* event) {
    m_autoRange = false;
    QCustomPlot::wheelEvent(event);
}

void MetricChart::mouseDoubleClickEvent(QMouseEvent* event) {
    m_autoRange = true;
    Q_EMIT userRangeChanged();
    QCustomPlot::mouseDoubleClickEvent(event);
}

void MetricChart::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    if (m_hover.empty() || !axisRect()->rect().contains(event->pos())) {
        QToolTip::hideText();
        Q_EMIT hovered(std::numeric_limits<double>::quiet_NaN());
        return;
    }
    const double x = xAxis->pixelToCoord(event->position().x());
    Q_EMIT hovered(x);
    QStringList lines;
    lines << QStringLiteral("<b>%1</b>").arg(m_title);
    for (const auto& h : m_hover) {
        const auto& xs = h.series->x(h.axis);
        const int i = nearestIndex(xs, x);
        if (i < 0) continue;
        auto line =
            QStringLiteral("%1: %2").arg(h.label, QLocale().toString(h.series->value[i], 'g', 5));
        if (h.smoothing > 0 && i < h.series->smooth.size())
            line += tr(" (smoothed %1)").arg(QLocale().toString(h.series->smooth[i], 'g', 5));
        line += QStringLiteral(" — %1").arg(xText(h.axis, xs[i]));
        lines << line.toHtmlEscaped();
    }
    QToolTip::showText(event->globalPosition().toPoint(), lines.join(QStringLiteral("<br>")), this);
}

void MetricChart::leaveEvent(QEvent* event) {
    QToolTip::hideText();
    Q_EMIT hovered(std::numeric_limits<double>::quiet_NaN());
    QCustomPlot::leaveEvent(event);
}

void MetricChart::setXRange(const QCPRange& range) {
    m_autoRange = false;
    m_rebuilding = true;  // not a pan of this chart's own
    xAxis->setRange(range);
    m_rebuilding = false;
}

void MetricChart::setAutomaticRange() {
    m_autoRange = true;
}

void MetricChart::setCrosshair(double x) {
    if (!m_crosshair) {
        m_crosshair = new QCPItemStraightLine(this);
        m_crosshair->setPen(QPen(QColor(0, 0, 0, 90), 1, Qt::DotLine));
        m_crosshair->setSelectable(false);
    }
    const bool shown = std::isfinite(x);
    m_crosshair->setVisible(shown);
    if (shown) {
        m_crosshair->point1->setCoords(x, 1);  // two points of a vertical line (1 and 2:
        m_crosshair->point2->setCoords(x, 2);  // valid on a log axis too)
    }
    replot(QCustomPlot::rpQueuedReplot);
}

QString MetricChart::csv() const {
    QString out = QStringLiteral("series,step,tokens,wall_s,value\n");
    for (const auto& h : m_hover) {
        auto name = h.label;
        name.replace(QLatin1Char('"'), QStringLiteral("\"\""));
        const auto& s = *h.series;
        for (int i = 0; i < s.value.size(); ++i)
            out += QLatin1Char('"') + name + QStringLiteral("\",") +
                   QString::number(s.step[i], 'f', 0) + QLatin1Char(',') +
                   QString::number(s.tokens[i], 'f', 0) + QLatin1Char(',') +
                   QString::number(s.wall[i], 'g', 10) + QLatin1Char(',') +
                   QString::number(s.value[i], 'g', 10) + QLatin1Char('\n');
    }
    return out;
}

QString MetricChart::saveImage(const QString& path) {
    return savePlotImage(this, path);
}

void MetricChart::contextMenuEvent(QContextMenuEvent* event) {
    showExportMenu(this, event->globalPos(), m_title, [this] { return csv(); });
}

}  // namespace itera::ui
