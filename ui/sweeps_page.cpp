#include "sweeps_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "elided_label.h"
#include "parallel_coordinates.h"
#include "qcustomplot_include.h"
#include "report/report.h"
#include "report/sweep_charts.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/read_file.h"
#include "workflows/distributed_run.h"
#include "workflows/model_source.h"

namespace itera::ui {
namespace {

using json = nlohmann::json;

QString text(const std::string& s) {
    return QString::fromStdString(s);
}

// Shows only the source rows the parallel coordinates selected.
class TrialFilter : public QSortFilterProxyModel {
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setRows(std::set<std::size_t> rows) {
        m_rows = std::move(rows);
        invalidateFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex&) const override {
        return m_rows.count(static_cast<std::size_t>(row)) > 0;
    }

private:
    std::set<std::size_t> m_rows;
};

QStandardItem* numberItem(const QString& shown, double sortKey) {
    auto* item = new QStandardItem(shown);
    item->setData(sortKey, Qt::UserRole);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

}  // namespace

SweepsPage::SweepsPage(const Workspace& workspace, RunStore* store, QWidget* parent)
    : QWidget(parent), m_workspace(workspace), m_store(store) {
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Sweep:"), this));
    m_sweepChoice = new QComboBox(this);
    m_sweepChoice->setObjectName(QStringLiteral("sweepChoice"));
    m_sweepChoice->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_sweepChoice->setMinimumContentsLength(24);
    bar->addWidget(m_sweepChoice, 1);
    m_fromSpec = new QPushButton(tr("Start from spec…"), this);
    m_fromSpec->setToolTip(tr("Start a sweep from a JSON spec file (docs/sweeps.md)"));
    m_around = new QPushButton(tr("Sweep around open run…"), this);
    m_around->setToolTip(tr("Vary the open run's learning rate, weight decay and dropout"));
    m_resume = new QPushButton(tr("Resume"), this);
    m_stop = new QPushButton(tr("Stop"), this);
    m_stop->setToolTip(tr("Running trials checkpoint, then the sweep stops; Resume goes on"));
    m_cloneBest = new QPushButton(tr("Clone best"), this);
    m_cloneBest->setToolTip(tr("A new run with the best trial's settings, to edit first"));
    m_report = new QPushButton(tr("Report…"), this);
    for (auto* b : {m_fromSpec, m_around, m_resume, m_stop, m_cloneBest, m_report})
        bar->addWidget(b);
    layout->addLayout(bar);
    m_status = new ElidedLabel(this);
    m_status->setObjectName(QStringLiteral("sweepStatus"));
    layout->addWidget(m_status);
    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #b00020"));
    m_error->hide();
    layout->addWidget(m_error);

    auto* split = new QSplitter(Qt::Vertical, this);
    m_model = new QStandardItemModel(this);
    auto* filter = new TrialFilter(this);
    filter->setSourceModel(m_model);
    filter->setSortRole(Qt::UserRole);
    m_filter = filter;
    m_table = new QTableView(split);
    m_table->setObjectName(QStringLiteral("trialsTable"));
    m_table->setModel(m_filter);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(0, Qt::AscendingOrder);  // trial order until the user sorts
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    auto* charts = new QSplitter(Qt::Horizontal, split);
    m_parallel = new ParallelCoordinates(charts);
    auto* scatterBox = new QWidget(charts);
    auto* sl = new QVBoxLayout(scatterBox);
    sl->setContentsMargins(0, 0, 0, 0);
    m_scatterParam = new QComboBox(scatterBox);
    m_scatterParam->setObjectName(QStringLiteral("scatterParameter"));
    sl->addWidget(m_scatterParam);
    m_scatter = new QCustomPlot(scatterBox);
    m_scatter->setMinimumSize(220, 150);
    sl->addWidget(m_scatter, 1);
    charts->setStretchFactor(0, 3);
    charts->setStretchFactor(1, 2);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    connect(m_sweepChoice, &QComboBox::activated, this,
            [this](int i) { showSweep(m_sweepChoice->itemData(i).toLongLong()); });
    connect(m_parallel, &ParallelCoordinates::selectionChanged, this,
            [this, filter] { filter->setRows(m_parallel->selected()); });
    connect(m_scatterParam, &QComboBox::activated, this, [this] { fillScatter(); });
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        const auto id =
            m_filter->mapToSource(index).siblingAtColumn(1).data(Qt::UserRole).toLongLong();
        if (id > 0) Q_EMIT openRunRequested(id);
    });
    connect(m_fromSpec, &QPushButton::clicked, this, [this] { chooseSpecFile(); });
    connect(m_around, &QPushButton::clicked, this, [this] { sweepAroundRun(); });
    connect(m_resume, &QPushButton::clicked, this, [this] {
        runItera({QStringLiteral("sweep"), QStringLiteral("resume"), QString::number(m_sweepId)});
    });
    connect(m_stop, &QPushButton::clicked, this, [this] {
        try {
            m_store->request_sweep_stop(m_sweepId);
        } catch (const std::exception& e) {
            m_error->setText(text(e.what()));
            m_error->show();
        }
        refresh();
    });
    connect(m_cloneBest, &QPushButton::clicked, this, [this] {
        if (m_view && m_view->best)
            if (const auto id = m_view->trials[*m_view->best].record.run_id)
                Q_EMIT cloneRunRequested(*id);
    });
    connect(m_report, &QPushButton::clicked, this, [this] { saveReport(); });
    m_poll.setInterval(2000);
    connect(&m_poll, &QTimer::timeout, this, [this] {
        if (isVisible()) refresh();
    });
    m_poll.start();
    refresh();
}

void SweepsPage::setOpenRun(qint64 runId) {
    m_openRun = runId;
    updateButtons();
}

void SweepsPage::refresh() {
    const auto sweeps = m_store->list_sweeps();
    m_sweepChoice->clear();
    for (auto it = sweeps.rbegin(); it != sweeps.rend(); ++it)
        m_sweepChoice->addItem(tr("%1 · %2 · %3")
                                   .arg(it->id)
                                   .arg(it->name.empty() ? tr("(unnamed)") : text(it->name))
                                   .arg(text(it->status)),
                               QVariant::fromValue<qlonglong>(it->id));
    if (m_sweepId == 0 && !sweeps.empty()) m_sweepId = sweeps.back().id;
    const int at = m_sweepChoice->findData(QVariant::fromValue<qlonglong>(m_sweepId));
    if (at >= 0) m_sweepChoice->setCurrentIndex(at);
    m_view.reset();
    if (at >= 0) {
        try {
            m_view = sweep_view(*m_store, m_sweepId);
        } catch (const std::exception& e) {
            m_error->setText(text(e.what()));
            m_error->show();
        }
    }
    m_parallel->setView(m_view ? *m_view : SweepView{});
    static_cast<TrialFilter*>(m_filter)->setRows(m_parallel->selected());
    fillTable();
    fillScatter();
    updateButtons();
}

void SweepsPage::showSweep(qint64 id) {
    m_sweepId = id;
    refresh();
}

QString SweepsPage::statusText() const {
    if (!m_view) return tr("No sweep yet: start one from a spec file, or around the open run.");
    const auto& r = m_view->record;
    QString s = tr("%1: %2 of %3 trials, %4, running time %5 min")
                    .arg(text(r.status))
                    .arg(m_view->trials.size())
                    .arg(m_view->spec.trial_count())
                    .arg(text(sweep_method_name(m_view->spec.method)))
                    .arg(r.elapsed_s / 60, 0, 'f', 1);
    if (m_view->spec.early_stopping())
        s += tr(", ASHA (best 1/%1 go on)").arg(m_view->spec.reduction);
    if (m_view->best) {
        const auto& b = m_view->trials[*m_view->best];
        s += tr(" · best: trial %1, %2 %3 at step %4")
                 .arg(b.record.trial + 1)
                 .arg(text(m_view->spec.metric))
                 .arg(*b.objective, 0, 'f', 4)
                 .arg(b.best_step);
    }
    if (!r.message.empty()) s += QStringLiteral(" · ") + text(r.message);
    return s;
}

int SweepsPage::visibleTrials() const {
    return m_filter->rowCount();
}

void SweepsPage::fillTable() {
    m_model->clear();
    m_status->setText(statusText());
    if (!m_view) return;
    const auto& spec = m_view->spec;
    QStringList header = {tr("Trial"), tr("Run")};
    for (const auto& p : spec.parameters) header << text(parameter_label(p.name));
    if (spec.seeds > 1) header << tr("Seed");
    header << text(spec.metric) << tr("Best step") << tr("Steps") << tr("Status") << tr("Why");
    m_model->setHorizontalHeaderLabels(header);
    for (std::size_t i = 0; i < m_view->trials.size(); ++i) {
        const auto& t = m_view->trials[i];
        QList<QStandardItem*> row;
        row << numberItem(QString::number(t.record.trial + 1) +
                              (m_view->best == i ? QStringLiteral(" ★") : QString()),
                          static_cast<double>(t.record.trial));
        row << numberItem(t.record.run_id ? QString::number(*t.record.run_id) : QStringLiteral("–"),
                          static_cast<double>(t.record.run_id.value_or(0)));
        for (const auto& p : spec.parameters) {
            const auto& v = t.params.contains(p.name) ? t.params[p.name] : json();
            row << numberItem(text(v.is_null() ? "–" : parameter_text(v)),
                              v.is_number() ? v.get<double>() : 0.0);
        }
        if (spec.seeds > 1) row << numberItem(QString::number(t.seed), static_cast<double>(t.seed));
        row << numberItem(t.objective ? QString::number(*t.objective, 'f', 4) : QStringLiteral("–"),
                          t.objective.value_or(INFINITY));
        row << numberItem(t.best_step >= 0 ? QString::number(t.best_step) : QStringLiteral("–"),
                          static_cast<double>(t.best_step));
        row << numberItem(QString::number(t.steps_done), static_cast<double>(t.steps_done));
        auto* status = new QStandardItem(text(t.record.status));
        status->setData(text(t.record.status), Qt::UserRole);
        row << status;
        const auto why = t.record.status == "completed" ? std::string() : t.record.reason;
        auto* reason = new QStandardItem(text(why));
        reason->setToolTip(text(why));
        reason->setData(text(why), Qt::UserRole);
        row << reason;
        m_model->appendRow(row);
    }
    // The run id is also the double-click target.
    for (int r = 0; r < m_model->rowCount(); ++r) {
        auto* item = m_model->item(r, 1);
        const auto& t = m_view->trials[static_cast<std::size_t>(r)];
        item->setData(static_cast<qlonglong>(t.record.run_id.value_or(0)), Qt::UserRole);
    }
    m_table->resizeColumnsToContents();
}

void SweepsPage::fillScatter() {
    const int keep = std::max(0, m_scatterParam->currentIndex());
    m_scatterParam->clear();
    m_scatter->clearGraphs();
    if (!m_view || m_view->spec.parameters.empty()) {
        m_scatter->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    for (const auto& p : m_view->spec.parameters)
        m_scatterParam->addItem(
            tr("%1 against %2").arg(text(parameter_label(p.name)), text(m_view->spec.metric)));
    m_scatterParam->setCurrentIndex(std::min(keep, m_scatterParam->count() - 1));
    const auto chart =
        parameter_chart(*m_view, static_cast<std::size_t>(m_scatterParam->currentIndex()), 0, 0);
    m_scatter->xAxis->setLabel(text(chart.x_label));
    m_scatter->yAxis->setLabel(text(chart.y_label));
    const QColor colors[] = {QColor(0x00, 0x72, 0xb2), QColor(0x00, 0x00, 0x00)};
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
        auto* g = m_scatter->addGraph();
        g->setName(text(chart.series[s].name));
        g->setLineStyle(QCPGraph::lsNone);
        const auto c = colors[std::min<std::size_t>(s, 1)];
        g->setScatterStyle(QCPScatterStyle(
            s == 0 ? QCPScatterStyle::ssDisc : QCPScatterStyle::ssStar, c, c, s == 0 ? 7 : 12));
        std::vector<std::pair<double, double>> pts;
        for (std::size_t i = 0; i < chart.series[s].x.size(); ++i)
            pts.emplace_back(chart.series[s].x[i], chart.series[s].y[i]);
        std::sort(pts.begin(), pts.end());  // QCustomPlot keeps a graph sorted by x
        QVector<double> xs, ys;
        for (const auto& [x, y] : pts) xs << x, ys << y;
        g->setData(xs, ys, true);
    }
    m_scatter->rescaleAxes();
    const auto xr = m_scatter->xAxis->range(), yr = m_scatter->yAxis->range();
    m_scatter->xAxis->setRange(xr.lower - 0.06 * xr.size() - 1e-3,
                               xr.upper + 0.06 * xr.size() + 1e-3);
    m_scatter->yAxis->setRange(yr.lower - 0.08 * yr.size() - 1e-3,
                               yr.upper + 0.08 * yr.size() + 1e-3);
    m_scatter->replot(QCustomPlot::rpQueuedReplot);
}

void SweepsPage::updateButtons() {
    const auto status = m_view ? m_view->record.status : std::string();
    const bool live = status == "running" || status == "stopping";
    m_resume->setEnabled(m_view &&
                         (status == "stopped" || status == "interrupted" || status == "failed"));
    m_stop->setEnabled(m_view && status == "running");
    m_cloneBest->setEnabled(m_view && m_view->best.has_value());
    m_report->setEnabled(m_view.has_value());
    m_around->setEnabled(m_openRun > 0);
    m_poll.setInterval(live ? 2000 : 10000);
}

bool SweepsPage::runItera(const QStringList& args) {
    m_error->hide();
    try {
        QStringList full = args;
        full << QStringLiteral("--db") << QString::fromStdString(m_store->path().string());
        // Detached: a sweep takes hours and outlives the window; Stop goes through the store.
        if (!QProcess::startDetached(QString::fromStdString(itera_executable().string()), full))
            throw Error("cannot start " + itera_executable().string());
    } catch (const std::exception& e) {
        m_error->setText(text(e.what()));
        m_error->show();
        return false;
    }
    QTimer::singleShot(1500, this, [this] {
        m_sweepId = 0;  // the newest
        refresh();
        Q_EMIT sweepStarted();
    });
    return true;
}

bool SweepsPage::startSpec(const std::string& specJson, int parallel) {
    try {
        SweepSpec::from_json(specJson);  // its errors here, not in a process's log
        const auto dir = m_store->path().parent_path() / "sweeps";
        std::filesystem::create_directories(dir);
        const auto file = dir / ("sweep-" +
                                 QDateTime::currentDateTimeUtc()
                                     .toString(QStringLiteral("yyyyMMdd-HHmmss"))
                                     .toStdString() +
                                 ".json");
        write_file_atomically(file, specJson);
        return runItera({QStringLiteral("sweep"), QStringLiteral("start"),
                         QString::fromStdString(file.string()), QStringLiteral("--parallel"),
                         QString::number(parallel)});
    } catch (const std::exception& e) {
        m_error->setText(text(e.what()));
        m_error->show();
        return false;
    }
}

void SweepsPage::chooseSpecFile() {
    const auto file =
        QFileDialog::getOpenFileName(this, tr("Sweep spec"), QDir::homePath(), tr("JSON (*.json)"));
    if (file.isEmpty()) return;
    try {
        startSpec(read_file(file.toStdString()), 1);
    } catch (const std::exception& e) {
        m_error->setText(text(e.what()));
        m_error->show();
    }
}

std::string SweepsPage::specAroundRun(RunStore& store, qint64 runId, int configurations,
                                      bool earlyStopping) {
    const auto run = store.run(runId);
    auto base = json::parse(run.config_json);
    const auto steps = base.value("steps", std::int64_t{0});
    if (steps <= 0)
        throw Error("run " + std::to_string(runId) + " has no step count to sweep around");
    base.erase("minutes");
    base.erase("threads");
    base["data"] = json::parse(stored_data_spec(run).to_json());
    const double lr = base.value("lr", 0.002), wd = base.value("weight_decay", 0.1);
    json spec = {{"name", "around run " + std::to_string(runId)},
                 {"base", base},
                 {"parameters",
                  {{"lr", {{"range", {lr / 3, std::min(10.0, lr * 3)}}, {"scale", "log"}}},
                   {"weight_decay",
                    {{"range", {wd > 0 ? wd / 3 : 0.01, wd > 0 ? std::min(9.9, wd * 3) : 0.3}},
                     {"scale", "log"}}},
                   {"dropout", {{"values", {0.0, 0.1, 0.2}}}}}},
                 {"method", configurations >= 12 ? "tpe" : "random"},
                 {"configurations", configurations}};
    if (earlyStopping && steps >= 16)
        spec["early_stopping"] = {{"rungs", {steps / 8, steps / 4}}, {"reduction", 3}};
    return spec.dump(2);
}

void SweepsPage::sweepAroundRun() {
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Sweep around run %1").arg(m_openRun));
    auto* form = new QFormLayout(&dialog);
    form->addRow(new QLabel(tr("Varies the learning rate and weight decay (a third to three "
                               "times the run's, log-uniform) and dropout (0, 0.1, 0.2); "
                               "everything else is the run's."),
                            &dialog));
    auto* count = new QSpinBox(&dialog);
    count->setRange(2, 200);
    count->setValue(16);
    form->addRow(tr("Configurations"), count);
    auto* asha =
        new QCheckBox(tr("Stop poor trials early (ASHA at 1/8 and 1/4 of the steps)"), &dialog);
    asha->setChecked(true);
    form->addRow(asha);
    auto* parallel = new QSpinBox(&dialog);
    parallel->setRange(1, 16);
    form->addRow(tr("Trials at once"), parallel);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Start"));
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    form->addRow(buttons);
    if (dialog.exec() != QDialog::Accepted) return;
    try {
        startSpec(specAroundRun(*m_store, m_openRun, count->value(), asha->isChecked()),
                  parallel->value());
    } catch (const std::exception& e) {
        m_error->setText(text(e.what()));
        m_error->show();
    }
}

void SweepsPage::saveReport() {
    const auto file = QFileDialog::getSaveFileName(
        this, tr("Sweep report"),
        QDir::home().filePath(QStringLiteral("sweep-%1-report.md").arg(m_sweepId)),
        tr("Markdown (*.md)"));
    if (file.isEmpty()) return;
    try {
        ReportOptions options;
        options.image_prefix = QFileInfo(file).completeBaseName().toStdString();
        write_report(sweep_report(*m_store, m_sweepId, options), file.toStdString());
    } catch (const std::exception& e) {
        m_error->setText(text(e.what()));
        m_error->show();
    }
}

}  // namespace itera::ui
