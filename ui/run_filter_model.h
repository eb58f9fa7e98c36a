#pragma once
// Filters the runs table by words: a run is shown when every word of the
// filter appears (case-insensitively) in its name, tags, status, preset or
// dataset, so "finished moby" or "quality baseline" narrow the list.
// Sorts by each column's SortRole, so numbers sort as numbers.

#include <QSortFilterProxyModel>
#include <QStringList>

namespace itera::ui {

class RunFilterModel : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit RunFilterModel(QObject* parent = nullptr);
    void setFilterWords(const QString& text);

protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override;

private:
    QStringList m_words;
};

}  // namespace itera::ui
