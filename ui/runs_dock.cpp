#include "runs_dock.h"

#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

#include "run_filter_model.h"
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
    layout->addWidget(m_filter);

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
    layout->addWidget(m_view);
    setWidget(body);

    connect(m_filter, &QLineEdit::textChanged, m_proxy, &RunFilterModel::setFilterWords);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { Q_EMIT selectionChanged(selectedRuns()); });
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](const QPoint& p) {
        Q_EMIT contextMenuRequested(m_view->viewport()->mapToGlobal(p));
    });
    connect(model, &QAbstractItemModel::rowsInserted, this, &RunsDock::fitColumns);
    connect(model, &QAbstractItemModel::modelReset, this, &RunsDock::fitColumns);
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
