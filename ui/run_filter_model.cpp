#include "run_filter_model.h"

#include "run_table_model.h"

namespace itera::ui {

RunFilterModel::RunFilterModel(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(RunTableModel::SortRole);
    setDynamicSortFilter(true);
}

void RunFilterModel::setFilterWords(const QString& text) {
    m_words = text.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    invalidateFilter();
}

bool RunFilterModel::filterAcceptsRow(int row, const QModelIndex& parent) const {
    if (m_words.isEmpty()) return true;
    const auto text =
        sourceModel()->index(row, 0, parent).data(RunTableModel::FilterRole).toString();
    for (const auto& w : m_words)
        if (!text.contains(w, Qt::CaseInsensitive)) return false;
    return true;
}

}  // namespace itera::ui
