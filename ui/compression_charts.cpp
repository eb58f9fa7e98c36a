// The compression inspector's two charts: size against quality of every
// compressed model (with the Pareto front), and the selected model's bytes
// per layer.

#include <QLocale>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "compression_figures.h"
#include "compression_page.h"
#include "plot_export.h"
#include "plot_legend.h"
#include "qcustomplot_include.h"
#include "run_curves.h"

namespace itera::ui {

using namespace compression_figures;

void CompressionPage::plot() {
    m_scatter->clearGraphs();
    m_scatter->clearItems();
    m_pointRows.clear();
    m_pareto = 0;
    const int metric = m_yMetric->currentIndex();
    m_scatter->yAxis->setLabel(m_yMetric->currentText());
    auto cost = [&](const CompressionReport& j) {
        const auto& st = j.statistics;
        switch (metric) {
            case 1:
                return quality(j, &QualityReport::kld);
            case 2:
                return 1.0 - quality(j, &QualityReport::top1_agreement);
            case 3:
                return st ? st->kld.p99 : kNone;
            case 4:
                return st ? 100 * st->dp_rms : kNone;
            case 5:
                return st ? st->ln_ppl_ratio : kNone;
            default:
                return quality(j, &QualityReport::delta_ppl_pct);
        }
    };
    // One graph per method, in a fixed colour order.
    std::map<std::string, std::vector<int>> byMethod;
    std::vector<std::pair<double, double>> points;
    for (std::size_t i = 0; i < m_rows.size(); ++i) {
        const double x = ratioOf(m_rows[i].record.report), y = cost(m_rows[i].record.report);
        if (std::isnan(x) || std::isnan(y)) continue;  // compressed without a measurement
        byMethod[m_rows[i].record.method].push_back(static_cast<int>(i));
        points.emplace_back(x, y);
    }
    for (const auto& [method, rows] : byMethod) {
        auto* g = m_scatter->addGraph();
        g->setName(QString::fromStdString(method));
        g->setLineStyle(QCPGraph::lsNone);
        const auto c = methodColor(QString::fromStdString(method));  // stable per method
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, c, 8));
        QVector<double> xs, ys;
        // QCustomPlot keeps a graph's points sorted by x: sort the rows the same way.
        auto sorted = rows;
        std::sort(sorted.begin(), sorted.end(), [&](int a, int b) {
            return ratioOf(m_rows[a].record.report) < ratioOf(m_rows[b].record.report);
        });
        for (int r : sorted) {
            xs << ratioOf(m_rows[r].record.report);
            ys << cost(m_rows[r].record.report);
        }
        g->setData(xs, ys, true);
        m_pointRows.push_back(sorted);
    }
    // Pareto front: no other point is both smaller (higher ratio) and better (lower cost).
    std::sort(points.begin(), points.end(), [](auto a, auto b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    QVector<double> fx, fy;
    double best = std::numeric_limits<double>::infinity();
    for (const auto& [x, y] : points)
        if (y < best) {
            best = y;
            fx.prepend(x);
            fy.prepend(y);
        }
    if (points.empty()) {  // nothing measured: an empty frame, not the previous run's axes
        m_scatter->xAxis->setRange(0, 10);
        m_scatter->yAxis->setRange(0, 1);
        m_scatter->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    if (!fx.isEmpty()) {
        auto* front = m_scatter->addGraph();
        front->setName(tr("Pareto front"));
        front->setPen(QPen(QColor(0, 0, 0, 110), 1.2, Qt::DashLine));
        front->setData(fx, fy, true);
        m_pareto = static_cast<int>(fx.size());
    }
    m_scatter->rescaleAxes();
    const auto xr = m_scatter->xAxis->range(), yr = m_scatter->yAxis->range();
    m_scatter->xAxis->setRange(xr.lower - 0.05 * xr.size() - 0.1,
                               xr.upper + 0.05 * xr.size() + 0.1);
    m_scatter->yAxis->setRange(yr.lower - 0.08 * yr.size() - 1e-6,
                               yr.upper + 0.08 * yr.size() + 1e-6);
    m_scatter->replot(QCustomPlot::rpQueuedReplot);
}

void CompressionPage::plotLayers(const std::vector<TensorReport>& tensors) {
    m_layers->clearPlottables();
    m_layers->legend->setVisible(false);
    m_layerGroups = 0;
    // Bytes before and after per group: the embedding, each layer, the rest.
    std::map<int, std::pair<double, double>> groups;  // -1 embedding, layer index, 1<<20 rest
    for (const auto& t : tensors) {
        const auto& name = t.name;
        int group = 1 << 20;
        if (name.rfind("embed", 0) == 0)
            group = -1;
        else if (name.rfind("layers.", 0) == 0)
            group = std::atoi(name.c_str() + 7);
        groups[group].first += static_cast<double>(t.source_bytes) / 1e6;
        groups[group].second += static_cast<double>(t.bytes) / 1e6;
    }
    if (groups.empty()) {
        m_layers->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    QVector<double> keys, before, after;
    double key = 1;
    for (const auto& [group, bytes] : groups) {
        ticker->addTick(key, group < 0            ? tr("embedding")
                             : group == (1 << 20) ? tr("other")
                                                  : tr("layer %1").arg(group));
        keys << key++;
        before << bytes.first;
        after << bytes.second;
    }
    m_layerGroups = static_cast<int>(groups.size());
    m_layers->legend->setVisible(true);
    m_layers->xAxis->setTicker(ticker);
    auto* barsGroup = new QCPBarsGroup(m_layers);
    auto add = [&](const QString& name, const QVector<double>& values, const QColor& colour) {
        auto* bars = new QCPBars(m_layers->xAxis, m_layers->yAxis);
        bars->setName(name);
        bars->setData(keys, values, true);
        bars->setWidth(0.38);
        bars->setBrush(colour);
        bars->setPen(QPen(colour.darker(130)));
        bars->setBarsGroup(barsGroup);
    };
    add(tr("FP32"), before, QColor(0xbd, 0xbd, 0xbd));
    add(tr("compressed"), after, runColor(0));
    m_layers->rescaleAxes();
    m_layers->xAxis->setRange(0.4, key - 0.4);
    m_layers->yAxis->setRange(0, m_layers->yAxis->range().upper * 1.15);
    m_layers->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace itera::ui
