#include "compression_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMouseEvent>
#include <QProgressBar>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>

#include "compress/compress.h"
#include "compress/mixed.h"
#include "compression_figures.h"
#include "elided_label.h"
#include "eval/quality_stats.h"
#include "format/safetensors.h"
#include "format/scheme.h"
#include "plot_export.h"
#include "plot_legend.h"
#include "qcustomplot_include.h"
#include "run_curves.h"

namespace itera::ui {
namespace {

using namespace compression_figures;

constexpr int kSortRole = Qt::UserRole;
constexpr int kRowRole = Qt::UserRole + 1;

QStandardItem* item(const QString& text, const QVariant& sort, bool right = false) {
    auto* i = new QStandardItem(text);
    i->setData(sort, kSortRole);
    if (right) i->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return i;
}

QStandardItem* numeric(double v, int decimals, const QString& suffix = {}) {
    if (std::isnan(v)) return item(QString(), -std::numeric_limits<double>::infinity(), true);
    return item(QLocale().toString(v, 'f', decimals) + suffix, v, true);
}

}  // namespace

CompressionPage::CompressionPage(const Workspace& workspace, QWidget* parent)
    : QWidget(parent), m_workspace(workspace), m_runner(QStringLiteral("compression")) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("compressionSummary"));
    m_summary->setWordWrap(true);
    layout->addWidget(m_summary);

    // Two rows, so the page fits a small screen: what to make, then doing it.
    auto* choices = new QHBoxLayout;
    auto* actions = new QHBoxLayout;
    choices->addWidget(new QLabel(tr("Compress the run's best model:"), this));
    for (const char* name : {"f16", "bf16", "int8", "int4", "nf4"}) {
        auto* box = new QCheckBox(QString::fromLatin1(name), this);
        box->setObjectName(QStringLiteral("method:") + QString::fromLatin1(name));
        box->setChecked(std::string(name) == "int8");
        choices->addWidget(box);
        m_methods.push_back(box);
    }
    m_mixed = new QCheckBox(tr("mixed, target"), this);
    m_mixed->setObjectName(QStringLiteral("method:mixed"));
    m_mixed->setToolTip(
        tr("Mixed precision: each group of tensors is measured in int8 and int4 on training "
           "text, then a scheme per group is chosen to reach the target size with the least "
           "predicted loss (see docs/compression.md)"));
    choices->addWidget(m_mixed);
    m_mixedTarget = new QDoubleSpinBox(this);
    m_mixedTarget->setObjectName(QStringLiteral("mixedTarget"));
    m_mixedTarget->setRange(0.01, 100000);
    m_mixedTarget->setDecimals(2);
    m_mixedTarget->setSuffix(QStringLiteral(" MB"));
    m_mixedTarget->setToolTip(tr("The compressed file's size to reach"));
    choices->addWidget(m_mixedTarget);
    choices->addWidget(new QLabel(tr("group size"), this));
    m_groupSize = new QSpinBox(this);
    m_groupSize->setRange(16, 4096);
    m_groupSize->setSingleStep(16);
    m_groupSize->setValue(64);
    m_groupSize->setToolTip(tr("int4 / nf4: columns per group (a multiple of 16)"));
    choices->addWidget(m_groupSize);
    m_evaluate = new QCheckBox(tr("measure on held-out text"), this);
    m_evaluate->setChecked(true);
    actions->addWidget(m_evaluate);
    m_compress = new QPushButton(tr("Compress"), this);
    m_compress->setObjectName(QStringLiteral("compress"));
    actions->addWidget(m_compress);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setEnabled(false);
    actions->addWidget(m_cancel);
    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(160);
    m_progress->hide();
    actions->addWidget(m_progress);
    m_phase = new ElidedLabel(this);
    m_phase->setObjectName(QStringLiteral("compressPhase"));
    actions->addWidget(m_phase, 1);
    choices->addStretch();
    layout->addLayout(choices);
    layout->addLayout(actions);
    connect(m_compress, &QPushButton::clicked, this, &CompressionPage::compressChecked);
    connect(m_cancel, &QPushButton::clicked, this, [this] { m_pending -= m_runner.cancelAll(); });
    connect(&m_runner, &JobRunner::progressed, this, [this](JobId, const JobProgress& p) {
        if (p.phase.isEmpty()) return;
        m_phase->setText(p.phase);
        if (p.fraction >= 0) {
            m_progress->setRange(0, 1000);
            m_progress->setValue(static_cast<int>(p.fraction * 1000));
        } else {
            m_progress->setRange(0, 0);
        }
    });
    connect(&m_runner, &JobRunner::finished, this, [this](JobId, const QVariant& result) {
        ++m_done;
        onJobEnded(result.toString());
    });
    connect(&m_runner, &JobRunner::failed, this, [this](JobId, const QString& message) {
        m_pending -= m_runner.cancelAll();  // the rest of the batch is not started
        onJobEnded(message);
    });
    setSource({}, {});

    auto* split = new QSplitter(Qt::Vertical, this);
    m_results = new QStandardItemModel(0, 13, this);
    m_results->setHorizontalHeaderLabels({tr("Method"), tr("File"), tr("Size"), tr("Ratio"),
                                          tr("Bits/weight"), tr("Perplexity"), tr("ΔPPL"),
                                          tr("Bits/byte"), tr("KL (nats)"), tr("Top-1"),
                                          tr("Decode tok/s"), tr("vs FP32"), tr("Prefill tok/s")});
    m_results->setSortRole(kSortRole);
    m_resultsView = new QTableView(split);
    m_resultsView->setObjectName(QStringLiteral("compressions"));
    m_resultsView->setModel(m_results);
    m_resultsView->setSortingEnabled(true);
    m_resultsView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_resultsView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_resultsView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_resultsView->verticalHeader()->hide();
    m_resultsView->horizontalHeader()->setStretchLastSection(true);
    split->addWidget(m_resultsView);

    auto* bottom = new QSplitter(Qt::Horizontal, split);
    auto* plotBox = new QWidget(bottom);
    auto* plotLayout = new QVBoxLayout(plotBox);
    plotLayout->setContentsMargins(0, 0, 0, 0);
    auto* yRow = new QHBoxLayout;
    yRow->addWidget(new QLabel(tr("Quality cost:"), plotBox));
    m_yMetric = new QComboBox(plotBox);
    m_yMetric->addItems({tr("ΔPPL (%)"), tr("KL divergence (nats/token)"),
                         tr("1 − top-1 agreement"), tr("KL divergence, p99"), tr("Δp RMS (%)"),
                         tr("ln(PPL / PPL of FP32)")});
    m_yMetric->setToolTip(
        tr("The quality figure plotted against the compression ratio; the "
           "statistics are llama.cpp's, over the held-out tokens"));
    yRow->addWidget(m_yMetric);
    yRow->addStretch();
    plotLayout->addLayout(yRow);
    m_scatter = new QCustomPlot(plotBox);
    m_scatter->setObjectName(QStringLiteral("compressionScatter"));
    m_scatter->setMinimumSize(300, 170);
    m_scatter->xAxis->setLabel(tr("compression ratio (FP32 file size / file size)"));
    m_scatter->legend->setVisible(true);
    placeLegendBelow(m_scatter);
    plotLayout->addWidget(m_scatter, 1);
    bottom->addWidget(plotBox);

    m_tensors = new QStandardItemModel(0, 8, this);
    m_tensors->setHorizontalHeaderLabels({tr("Tensor"), tr("Shape"), tr("Scheme"), tr("FP32 bytes"),
                                          tr("Bytes"), tr("Ratio"), tr("Rel. RMS error"),
                                          tr("SQNR (dB)")});
    m_tensors->setSortRole(kSortRole);
    auto* right = new QSplitter(Qt::Vertical, bottom);
    m_tensorsView = new QTableView(right);
    m_tensorsView->setObjectName(QStringLiteral("tensors"));
    m_tensorsView->setModel(m_tensors);
    m_tensorsView->setSortingEnabled(true);
    m_tensorsView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_tensorsView->verticalHeader()->hide();
    right->addWidget(m_tensorsView);
    m_layers = new QCustomPlot(right);
    m_layers->setObjectName(QStringLiteral("layerBytes"));
    m_layers->setMinimumHeight(130);
    m_layers->yAxis->setLabel(tr("MB"));
    m_layers->legend->setVisible(true);
    placeLegendBelow(m_layers);
    right->addWidget(m_layers);
    bottom->addWidget(right);
    split->addWidget(bottom);
    layout->addWidget(split, 1);

    connect(m_yMetric, &QComboBox::currentIndexChanged, this, &CompressionPage::plot);
    connect(m_resultsView->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        const auto rows = m_resultsView->selectionModel()->selectedRows();
        showTensors(rows.isEmpty() ? -1 : rows.front().data(kRowRole).toInt());
    });
    // A click selects the nearest point's row. Not QCustomPlot's plottableClick:
    // it reports the topmost graph, which on the front is the dashed line, not a point.
    connect(m_scatter, &QCustomPlot::mousePress, this, [this](QMouseEvent* event) {
        if (event->button() != Qt::LeftButton) return;
        const int row = rowAt(event->position());
        if (row >= 0) selectRow(row);
    });
    // Right-click: save either chart, or its data.
    m_scatter->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_scatter, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        showExportMenu(m_scatter, m_scatter->mapToGlobal(at), tr("compression-scatter"),
                       [this] { return plotCsv(m_scatter, tr("method")); });
    });
    m_layers->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_layers, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        showExportMenu(m_layers, m_layers->mapToGlobal(at), tr("bytes-per-layer"),
                       [this] { return plotCsv(m_layers, tr("model")); });
    });
    showRun(0, {});
}

QString CompressionPage::plotCsv(QCustomPlot* plot, const QString& seriesName) const {
    // Every graph's and bar's points, named as in the legend.
    QString out = seriesName + QStringLiteral(",x,y\n");
    auto quoted = [](QString s) {
        s.replace(QLatin1Char('"'), QStringLiteral("\"\""));
        return QLatin1Char('"') + s + QLatin1Char('"');
    };
    for (int g = 0; g < plot->graphCount(); ++g)
        for (auto it = plot->graph(g)->data()->constBegin();
             it != plot->graph(g)->data()->constEnd(); ++it)
            out += quoted(plot->graph(g)->name()) + QLatin1Char(',') +
                   QString::number(it->key, 'g', 10) + QLatin1Char(',') +
                   QString::number(it->value, 'g', 10) + QLatin1Char('\n');
    for (int p = 0; p < plot->plottableCount(); ++p)
        if (auto* bars = qobject_cast<QCPBars*>(plot->plottable(p)))
            for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
                out += quoted(bars->name()) + QLatin1Char(',') + QString::number(it->key, 'g', 10) +
                       QLatin1Char(',') + QString::number(it->value, 'g', 10) + QLatin1Char('\n');
    return out;
}

CompressionPage::~CompressionPage() = default;  // the runner cancels and waits

void CompressionPage::setSource(const QString& model, const QString& outDir) {
    m_source = model;
    m_outDir = outDir;
    m_compress->setEnabled(!m_source.isEmpty() && !compressing());
    std::error_code ec;
    const auto size =
        m_source.isEmpty() ? 0 : std::filesystem::file_size(m_source.toStdString(), ec);
    // The default target lies between uniform int8 and int4, where a plan can
    // beat both; at or above int8's size, int8 itself would win.
    if (!ec && size > 0) {
        try {
            const auto config = ModelConfig::from_json(
                SafetensorsFile::read(m_source.toStdString()).meta("config"));
            const auto int8 = estimated_file_bytes(config, {Scheme::Int8, 64, false});
            const auto int4 =
                estimated_file_bytes(config, {Scheme::Int4, m_groupSize->value(), false});
            m_mixedTarget->setValue(0.5 * static_cast<double>(int8 + int4) / 1e6);
        } catch (const std::exception&) {
            m_mixedTarget->setValue(0.22 * static_cast<double>(size) / 1e6);
        }
    }
    m_compress->setToolTip(m_source.isEmpty() ? tr("Select one run that has a best checkpoint")
                                              : m_source);
}

void CompressionPage::showRun(qint64 runId, const std::vector<CompressionRecord>& records) {
    // Another run: the last batch's words were about the previous one.
    if (runId != m_runId && !compressing()) m_phase->clear();
    m_runId = runId;
    m_rows.clear();
    for (const auto& r : records) {
        CompressionRow row;
        row.record = r;
        row.fileExists = std::filesystem::exists(r.path);
        m_rows.push_back(std::move(row));
    }
    if (runId == 0)
        m_summary->setText(
            tr("Select one run to see its compressed models. Make them with "
               "<code>itera compress run:ID --method int8</code> (f16, bf16, int8, "
               "int4, nf4); each result is measured and kept in the run store."));
    else if (m_rows.empty())
        m_summary->setText(tr("Run %1 has no compressed models yet: <code>itera compress run:%1 "
                              "--method int8</code> makes one and measures it.")
                               .arg(runId));
    else
        m_summary->setText(tr("Run %1: %n compressed model(s). Every figure was measured when "
                              "the model was made (here or by <code>itera compress</code>) on "
                              "held-out text; ΔPPL and KL are "
                              "against the FP32 source. Click a point or a row for its tensors.",
                              nullptr, static_cast<int>(m_rows.size()))
                               .arg(runId));
    fillTable();
    plot();
    showTensors(-1);
    if (!m_rows.empty()) m_resultsView->selectRow(0);  // its tensors and bytes per layer
}

int CompressionPage::rowCount() const {
    return m_results->rowCount();
}
int CompressionPage::tensorRowCount() const {
    return m_tensors->rowCount();
}

void CompressionPage::fillTable() {
    m_results->removeRows(0, m_results->rowCount());
    for (std::size_t i = 0; i < m_rows.size(); ++i) {
        const auto& r = m_rows[i];
        const auto& j = r.record.report;
        const auto file = QFileInfo(QString::fromStdString(r.record.path)).fileName();
        QList<QStandardItem*> items;
        items << item(QString::fromStdString(r.record.method),
                      QString::fromStdString(r.record.method));
        auto* f = item(r.fileExists ? file : tr("%1 (file gone)").arg(file), file);
        f->setToolTip(QString::fromStdString(r.record.path));
        if (!r.fileExists) f->setForeground(QColor(0x99, 0x99, 0x99));
        items << f;
        items << numeric(r.record.bytes / 1e6, 2, QStringLiteral(" MB"));
        items << numeric(ratioOf(j), 2, QStringLiteral("×"));
        items << numeric(j.bpw.value_or(kNone), 2);
        items << numeric(quality(j, &QualityReport::perplexity), 2);
        auto* dppl = numeric(quality(j, &QualityReport::delta_ppl_pct), 3, QStringLiteral(" %"));
        if (const auto& st = j.statistics) {
            // A change whose 95 % interval holds 0 is not shown as a fact.
            if (st->delta_ppl_within_noise()) dppl->setText(tr("within noise"));
            dppl->setToolTip(tr("ΔPPL %1 (95 % interval %2 % … %3 %), ln(PPL ratio) %4 ± %5")
                                 .arg(QString::fromStdString(delta_ppl_text(*st)))
                                 .arg(st->delta_ppl_pct_low(), 0, 'f', 3)
                                 .arg(st->delta_ppl_pct_high(), 0, 'f', 3)
                                 .arg(st->ln_ppl_ratio, 0, 'g', 4)
                                 .arg(st->ln_ppl_ratio_unc, 0, 'g', 3));
        }
        items << dppl;
        items << numeric(quality(j, &QualityReport::bits_per_byte), 4);
        auto* kld = numeric(quality(j, &QualityReport::kld), 5);
        if (const auto& st = j.statistics)
            kld->setToolTip(tr("mean %1 ± %2; median %3, p90 %4, p99 %5, p99.9 %6, max %7")
                                .arg(st->kld_mean, 0, 'g', 4)
                                .arg(st->kld_unc, 0, 'g', 3)
                                .arg(st->kld.median, 0, 'g', 4)
                                .arg(st->kld.p90, 0, 'g', 4)
                                .arg(st->kld.p99, 0, 'g', 4)
                                .arg(st->kld.p999, 0, 'g', 4)
                                .arg(st->kld.max, 0, 'g', 4));
        items << kld;
        auto* top1 =
            numeric(quality(j, &QualityReport::top1_agreement) * 100, 2, QStringLiteral(" %"));
        if (const auto& st = j.statistics)
            top1->setToolTip(tr("%1 % ± %2 (binomial standard error)")
                                 .arg(100 * st->same_top, 0, 'f', 2)
                                 .arg(100 * st->same_top_unc, 0, 'f', 2));
        items << top1;
        items << numeric(speed(j, &SpeedReport::decode_tokens_per_s), 0);
        // The ratio to FP32 from the same interleaved measurement, never two
        // timings taken minutes apart.
        if (j.paired && !j.paired->decode.b.empty()) {
            const auto& d = j.paired->decode;
            auto* ratio = numeric(d.ratio_median, 2, QStringLiteral("×"));
            ratio->setToolTip(tr("median of %1 interleaved pairs: %2× (min %3×, max %4×); this "
                                 "model %5 tok/s, FP32 %6 tok/s in the same runs")
                                  .arg(d.a.size())
                                  .arg(d.ratio_median, 0, 'f', 3)
                                  .arg(d.ratio_min, 0, 'f', 3)
                                  .arg(d.ratio_max, 0, 'f', 3)
                                  .arg(d.b_median, 0, 'f', 0)
                                  .arg(d.a_median, 0, 'f', 0));
            items << ratio;
        } else {
            items << numeric(speed(j, &SpeedReport::decode_tokens_per_s) /
                                 speed(j, &SpeedReport::source_decode_tokens_per_s),
                             2, QStringLiteral("×"));
        }
        items << numeric(speed(j, &SpeedReport::prefill_tokens_per_s), 0);
        for (auto* it : items) it->setData(static_cast<int>(i), kRowRole);
        m_results->appendRow(items);
    }
    m_resultsView->resizeColumnsToContents();
}

int CompressionPage::selectedRow() const {
    const auto rows = m_resultsView->selectionModel()->selectedRows();
    return rows.isEmpty() ? -1 : rows.front().data(kRowRole).toInt();
}

int CompressionPage::rowAt(QPointF pixel) const {
    constexpr double kReach = 12;  // pixels from a point's centre
    double best = kReach * kReach;
    int row = -1;
    for (int g = 0; g < static_cast<int>(m_pointRows.size()) && g < m_scatter->graphCount(); ++g) {
        const auto* graph = m_scatter->graph(g);
        int i = 0;
        for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it, ++i) {
            const auto d = graph->coordsToPixels(it->key, it->value) - pixel;
            const double d2 = QPointF::dotProduct(d, d);
            if (d2 <= best && i < static_cast<int>(m_pointRows[g].size())) {
                best = d2;
                row = m_pointRows[g][i];
            }
        }
    }
    return row;
}

void CompressionPage::selectRow(int row) {
    for (int r = 0; r < m_results->rowCount(); ++r)
        if (m_results->item(r, 0)->data(kRowRole).toInt() == row) {
            m_resultsView->selectRow(r);
            m_resultsView->scrollTo(m_results->index(r, 0));
            return;
        }
}

void CompressionPage::showTensors(int row) {
    m_tensors->removeRows(0, m_tensors->rowCount());
    const bool valid = row >= 0 && row < static_cast<int>(m_rows.size());
    static const std::vector<TensorReport> none;
    const auto& tensors =
        valid ? m_rows[static_cast<std::size_t>(row)].record.report.tensors : none;
    plotLayers(tensors);
    for (const auto& t : tensors) {
        QStringList dims;
        for (const auto d : t.shape) dims << QString::number(d);
        const auto before = static_cast<double>(t.source_bytes);
        const auto after = static_cast<double>(t.bytes);
        QList<QStandardItem*> items;
        const auto name = QString::fromStdString(t.name);
        items << item(name, name);
        items << item(dims.join(QStringLiteral("×")), before);
        const auto scheme = QString::fromStdString(t.scheme);
        items << item(scheme, scheme);
        items << numeric(before, 0);
        items << numeric(after, 0);
        items << numeric(after > 0 ? before / after : kNone, 2, QStringLiteral("×"));
        items << numeric(t.rel_rms, 5);
        items << numeric(t.sqnr_db.value_or(kNone), 1);
        m_tensors->appendRow(items);
    }
    m_tensorsView->resizeColumnsToContents();
}

}  // namespace itera::ui
