#include "chart_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

#include "app_settings.h"
#include "elided_label.h"

namespace itera::ui {

ChartPanel::ChartPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("X axis:"), this));
    m_xAxis = new QComboBox(this);
    m_xAxis->setObjectName(QStringLiteral("xAxis"));
    m_xAxis->addItems({tr("Step"), tr("Tokens seen"), tr("Wall time")});
    m_xAxis->setToolTip(
        tr("What the charts' x axis counts: optimiser steps, training tokens "
           "seen, or training time (pauses excluded)"));
    controls->addWidget(m_xAxis);
    m_logScale = new QCheckBox(tr("Log scale"), this);
    m_logScale->setObjectName(QStringLiteral("logScale"));
    m_logScale->setToolTip(tr("A logarithmic y axis, for losses that fall by orders of magnitude"));
    controls->addWidget(m_logScale);
    m_linked = new QCheckBox(tr("Link x axes"), this);
    m_linked->setObjectName(QStringLiteral("linkCharts"));
    m_linked->setChecked(settings::plotLinked.value());
    m_linked->setToolTip(
        tr("Panning or zooming one chart moves them all, and a crosshair marks "
           "the pointer's x in every chart"));
    controls->addWidget(m_linked);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("Smoothing:"), this));
    m_smoothing = new QSlider(Qt::Horizontal, this);
    m_smoothing->setObjectName(QStringLiteral("smoothing"));
    m_smoothing->setRange(0, 99);
    m_smoothing->setMaximumWidth(160);
    m_smoothing->setToolTip(
        tr("Exponential moving average over every point; the raw values stay visible, faint."));
    controls->addWidget(m_smoothing);
    m_smoothingValue = new QLabel(this);
    m_smoothingValue->setMinimumWidth(32);
    controls->addWidget(m_smoothingValue);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("Expert load of:"), this));
    m_expertLayer = new QComboBox(this);
    m_expertLayer->setObjectName(QStringLiteral("expertLayer"));
    m_expertLayer->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_expertLayer->setToolTip(
        tr("The mixture-of-experts layer whose routing the expert-load chart shows, named by "
           "its place in the model (layers count from 0)"));
    controls->addWidget(m_expertLayer);
    auto* hint = new ElidedLabel(this);
    hint->setText(tr("Drag to pan, wheel to zoom, double-click to fit, right-click to save"));
    hint->setEnabled(false);
    controls->addWidget(hint, 1);
    layout->addLayout(controls);
    m_runsLegend = new QLabel(this);
    m_runsLegend->setObjectName(QStringLiteral("runsLegend"));
    m_runsLegend->setWordWrap(true);
    m_runsLegend->hide();
    layout->addWidget(m_runsLegend);

    m_placeholder = new QLabel(
        tr("<h3>No run selected</h3><p>Select a run in the list to see its curves, several to "
           "overlay them, or start one with <b>New run</b>.</p>"),
        this);
    m_placeholder->setObjectName(QStringLiteral("chartPlaceholder"));
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    layout->addWidget(m_placeholder, 1);

    m_grid = new QWidget(this);
    auto* grid = new QGridLayout(m_grid);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(2);
    const std::vector<std::pair<QString, QStringList>> specs = {
        {tr("Loss (nats)"), {QStringLiteral("train_loss"), QStringLiteral("val_loss")}},
        {tr("Validation perplexity"), {QStringLiteral("val_perplexity")}},
        {tr("Validation bits per byte"), {QStringLiteral("val_bits_per_byte")}},
        {tr("Learning rate"), {QStringLiteral("lr")}},
        {tr("Throughput (tokens/s)"), {QStringLiteral("tokens_per_s")}},
        {tr("Gradient norm (before clipping)"), {QStringLiteral("grad_norm")}},
        {tr("MoE load-balancing loss"), {QStringLiteral("aux_loss")}},
        {tr("Expert load (fraction of tokens)"), {QStringLiteral("expert_load")}},
    };
    for (std::size_t i = 0; i < specs.size(); ++i) {
        auto* chart = new MetricChart(specs[i].first, specs[i].second, m_grid);
        grid->addWidget(chart, static_cast<int>(i / 4), static_cast<int>(i % 4));
        connect(chart, &MetricChart::userRangeChanged, this, [this, chart] {
            if (m_linked->isChecked()) follow(chart);
            markDirty();
        });
        connect(chart, &MetricChart::hovered, this, [this](double x) {
            if (!m_linked->isChecked()) x = std::numeric_limits<double>::quiet_NaN();
            for (auto* c : m_charts) c->setCrosshair(x);
        });
        m_charts.push_back(chart);
    }
    connect(m_linked, &QCheckBox::toggled, this, [this](bool on) {
        settings::plotLinked.set(on);
        for (auto* c : m_charts) c->setCrosshair(std::numeric_limits<double>::quiet_NaN());
    });
    m_grid->hide();
    layout->addWidget(m_grid, 1);

    m_view.axis = static_cast<XAxis>(std::clamp(settings::plotXAxis.value(), 0, 2));
    m_view.logScale = settings::plotLogScale.value();
    m_view.smoothing = std::clamp(settings::plotSmoothing.value(), 0.0, 0.99);
    m_xAxis->setCurrentIndex(static_cast<int>(m_view.axis));
    m_logScale->setChecked(m_view.logScale);
    m_smoothing->setValue(static_cast<int>(std::lround(m_view.smoothing * 100)));
    m_smoothingValue->setText(QString::number(m_view.smoothing, 'f', 2));

    connect(m_xAxis, &QComboBox::currentIndexChanged, this,
            [this](int i) { setXAxis(static_cast<XAxis>(i)); });
    connect(m_logScale, &QCheckBox::toggled, this, &ChartPanel::setLogScale);
    connect(m_smoothing, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
    connect(m_expertLayer, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_view.expertLayer = std::max(0, i);
        markDirty();
    });

    m_repaintTimer.setInterval(33);
    connect(&m_repaintTimer, &QTimer::timeout, this, &ChartPanel::refresh);
    m_repaintTimer.start();
}

void ChartPanel::showRuns(std::vector<RunCurves> runs) {
    for (auto* c : m_charts) c->forgetSeries();
    m_runs = std::move(runs);
    for (std::size_t i = 0; i < m_runs.size(); ++i)
        if (!m_runs[i].color.isValid()) m_runs[i].color = runColor(static_cast<int>(i));
    QStringList names;
    for (const auto& r : m_runs)
        names << QStringLiteral("<span style='color:%1'>&#9632;</span>&nbsp;%2")
                     .arg(r.color.name(), r.name.toHtmlEscaped());
    m_runsLegend->setText(names.join(QStringLiteral(" &nbsp;&nbsp; ")));
    m_runsLegend->setVisible(m_runs.size() > 1);
    m_placeholder->setVisible(m_runs.empty());
    m_grid->setVisible(!m_runs.empty());
    updateExpertLayers();
    markDirty();
}

void ChartPanel::appendPoints(qint64 id, const std::vector<MetricPoint>& points) {
    if (points.empty()) return;
    for (auto& r : m_runs)
        if (r.id == id) {
            const int layers = r.expertLayers();
            r.add(points);
            if (r.expertLayers() != layers) updateExpertLayers();
            markDirty();
        }
}

bool ChartPanel::showsRun(qint64 id) const {
    return curves(id) != nullptr;
}

qint64 ChartPanel::lastStep(qint64 id) const {
    double last = 0;
    if (const auto* c = curves(id))
        for (const auto& [name, series] : c->metrics)
            if (!series.step.isEmpty()) last = std::max(last, series.step.back());
    return static_cast<qint64>(last);
}

const RunCurves* ChartPanel::curves(qint64 id) const {
    for (const auto& r : m_runs)
        if (r.id == id) return &r;
    return nullptr;
}

void ChartPanel::setXAxis(XAxis axis) {
    if (m_xAxis->currentIndex() != static_cast<int>(axis))
        m_xAxis->setCurrentIndex(static_cast<int>(axis));
    m_view.axis = axis;
    settings::plotXAxis.set(static_cast<int>(axis));
    markDirty();
}

void ChartPanel::setLogScale(bool on) {
    if (m_logScale->isChecked() != on) m_logScale->setChecked(on);
    m_view.logScale = on;
    settings::plotLogScale.set(on);
    markDirty();
}

void ChartPanel::setSmoothing(double weight) {
    weight = std::clamp(weight, 0.0, 0.99);
    const int v = static_cast<int>(std::lround(weight * 100));
    if (m_smoothing->value() != v) m_smoothing->setValue(v);
    m_view.smoothing = weight;
    m_smoothingValue->setText(QString::number(weight, 'f', 2));
    settings::plotSmoothing.set(weight);
    markDirty();
}

void ChartPanel::updateExpertLayers() {
    const int layers = m_runs.empty() ? 0 : m_runs.front().expertLayers();
    QStringList names;
    for (int l = 0; l < layers; ++l) {
        const auto& moe = m_runs.front().moeLayers;
        names << (l < static_cast<int>(moe.size())
                      ? tr("layer %1 (MoE)").arg(moe[static_cast<std::size_t>(l)])
                      : tr("MoE layer %1").arg(l + 1));
    }
    QStringList shown;
    for (int i = 0; i < m_expertLayer->count(); ++i) shown << m_expertLayer->itemText(i);
    if (shown == names) return;
    const int keep = m_expertLayer->currentIndex();
    QSignalBlocker block(m_expertLayer);
    m_expertLayer->clear();
    m_expertLayer->addItems(names);
    m_expertLayer->setCurrentIndex(std::clamp(keep, 0, std::max(0, layers - 1)));
    m_view.expertLayer = std::max(0, m_expertLayer->currentIndex());
}

void ChartPanel::follow(MetricChart* leader) {
    for (auto* c : m_charts) {
        if (c == leader) continue;
        if (leader->automaticRange())
            c->setAutomaticRange();
        else
            c->setXRange(leader->xAxis->range());
    }
}

void ChartPanel::markDirty() {
    m_dirty = true;
}

void ChartPanel::refresh() {
    if (!m_dirty || !isVisible()) return;
    m_dirty = false;
    for (auto* c : m_charts) c->rebuild(m_runs, m_view);
}

double ChartPanel::replotNow() {
    QElapsedTimer t;
    t.start();
    for (auto* c : m_charts) {
        c->rebuild(m_runs, m_view);
        c->replot(QCustomPlot::rpImmediateRefresh);
    }
    m_dirty = false;
    return t.nsecsElapsed() / 1e6;
}

}  // namespace itera::ui
