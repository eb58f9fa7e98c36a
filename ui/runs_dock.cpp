#include "runs_dock.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

#include "run_filter_model.h"
#include "run_groups.h"
#include "run_table_model.h"

namespace itera::ui {

RunsDock::RunsDock(RunTableModel* model, QWidget* parent)
    : QDockWidget(tr("Runs"), parent), m_model(model) {
    setObjectName(QStringLiteral("runsDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    layout->setContentsMargins(2, 2, 2, 2);
    m_filter = new QLineEdit(body);
    m_filter->setObjectName(QStringLiteral("runFilter"));
    m_filter->setPlaceholderText(
        tr("Filter: words matched in name, tags, status, preset, dataset (e.g. “finished moby”)"));
    m_filter->setClearButtonEnabled(true);
    auto* top = new QHBoxLayout;
    top->addWidget(m_filter, 1);
    m_grouping = new QComboBox(body);
    m_grouping->setObjectName(QStringLiteral("runGrouping"));
    m_grouping->setToolTip(
        tr("Group the runs by a setting: mean ± standard deviation of their "
           "best validation figures"));
    for (const auto& [by, label] : runGroupings()) m_grouping->addItem(label, static_cast<int>(by));
    top->addWidget(m_grouping);
    layout->addLayout(top);

    m_proxy = new RunFilterModel(this);
    m_proxy->setSourceModel(model);
    m_view = new QTableView(body);
    m_view->setObjectName(QStringLiteral("runTable"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(RunTableModel::Id, Qt::DescendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->setTextElideMode(Qt::ElideRight);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_view->horizontalHeader()->setStretchLastSection(true);
    auto* split = new QSplitter(Qt::Vertical, body);
    split->addWidget(m_view);
    m_groups = new QStandardItemModel(this);
    m_groupsView = new QTableView(split);
    m_groupsView->setObjectName(QStringLiteral("runGroups"));
    m_groupsView->setModel(m_groups);
    m_groupsView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_groupsView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_groupsView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_groupsView->verticalHeader()->hide();
    m_groupsView->horizontalHeader()->setStretchLastSection(true);
    m_groupsView->hide();
    split->addWidget(m_groupsView);
    layout->addWidget(split);
    setWidget(body);
    connect(m_grouping, &QComboBox::currentIndexChanged, this, [this] { updateGroups(); });
    connect(m_groupsView, &QTableView::clicked, this, [this](const QModelIndex& index) {
        // Choosing a group selects (and so opens, overlaid) its runs.
        const auto ids = m_groups->item(index.row(), 0)->data(Qt::UserRole).toList();
        QItemSelection selection;
        for (const auto& id : ids) {
            const int row = m_model->rowOf(id.toLongLong());
            const auto at = m_proxy->mapFromSource(m_model->index(row, 0));
            if (at.isValid()) selection.select(at, at);
        }
        m_view->selectionModel()->select(
            selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    });

    connect(m_filter, &QLineEdit::textChanged, m_proxy, &RunFilterModel::setFilterWords);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { Q_EMIT selectionChanged(selectedRuns()); });
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](const QPoint& p) {
        Q_EMIT contextMenuRequested(m_view->viewport()->mapToGlobal(p));
    });
    connect(model, &QAbstractItemModel::rowsInserted, this, &RunsDock::fitColumns);
    connect(model, &QAbstractItemModel::modelReset, this, &RunsDock::fitColumns);
    connect(model, &QAbstractItemModel::rowsInserted, this, &RunsDock::updateGroups);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &RunsDock::updateGroups);
    connect(model, &QAbstractItemModel::modelReset, this, &RunsDock::updateGroups);
    // A training run's best figures change often: its group follows every few seconds.
    auto* later = new QTimer(this);
    later->setSingleShot(true);
    later->setInterval(3000);
    connect(later, &QTimer::timeout, this, &RunsDock::updateGroups);
    connect(model, &QAbstractItemModel::dataChanged, later, [later] {
        if (!later->isActive()) later->start();
    });
}

void RunsDock::updateGroups() {
    const auto by = static_cast<RunGrouping>(m_grouping->currentData().toInt());
    m_groupsView->setVisible(by != RunGrouping::None);
    const int chosen = m_groupsView->currentIndex().row();
    m_groups->clear();
    if (by == RunGrouping::None) return;
    m_groups->setHorizontalHeaderLabels({tr("Group"), tr("Runs"), tr("Best bits/byte (mean ± std)"),
                                         tr("Best val loss (mean ± std)")});
    for (const auto& g : groupRuns(m_model->runs(), by)) {
        auto* label = new QStandardItem(g.label);
        QVariantList ids;
        for (auto id : g.ids) ids << QVariant::fromValue<qlonglong>(id);
        label->setData(ids, Qt::UserRole);
        label->setToolTip(g.label);
        m_groups->appendRow({label, new QStandardItem(QString::number(g.ids.size())),
                             new QStandardItem(statText(g.bestBitsPerByte)),
                             new QStandardItem(statText(g.bestValLoss))});
    }
    m_groupsView->resizeColumnsToContents();
    if (m_groupsView->columnWidth(0) > 260) m_groupsView->setColumnWidth(0, 260);
    if (chosen >= 0 && chosen < m_groups->rowCount())
        m_groupsView->setCurrentIndex(m_groups->index(chosen, 0));
}

void RunsDock::fitColumns() {
    // The key columns (status, id, name, the validation figures) come first and
    // stay narrow enough to be seen without scrolling: long texts are elided.
    m_view->resizeColumnsToContents();
    for (const auto& [column, most] :
         {std::pair{RunTableModel::Name, 220}, std::pair{RunTableModel::Dataset, 140},
          std::pair{RunTableModel::Tags, 140}, std::pair{RunTableModel::Preset, 90}})
        if (m_view->columnWidth(column) > most) m_view->setColumnWidth(column, most);
}

QList<qint64> RunsDock::selectedRuns() const {
    auto rows = m_view->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(),
              [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
    QList<qint64> ids;
    for (const auto& r : rows) ids << r.data(RunTableModel::RunIdRole).toLongLong();
    return ids;
}

void RunsDock::selectRun(qint64 id) {
    const int row = m_model->rowOf(id);
    if (row < 0) return;
    auto index = m_proxy->mapFromSource(m_model->index(row, 0));
    if (!index.isValid()) {  // filtered out: show it anyway
        m_filter->clear();
        index = m_proxy->mapFromSource(m_model->index(row, 0));
        if (!index.isValid()) return;
    }
    m_view->selectionModel()->select(
        index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_view->scrollTo(index);
}

}  // namespace itera::ui
