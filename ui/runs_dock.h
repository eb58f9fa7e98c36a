#pragma once
// The runs browser: every run of the store in a sortable table with a word
// filter. Selecting one run opens it; selecting several overlays them.
// Grouping by a setting (or by every setting but the seed) adds a table of
// the groups with the mean ± standard deviation of their best validation
// figures; choosing a group selects its runs.

#include <QDockWidget>
#include <QList>

class QComboBox;
class QLineEdit;
class QStandardItemModel;
class QTableView;

namespace itera::ui {

class RunFilterModel;
class RunTableModel;

class RunsDock : public QDockWidget {
    Q_OBJECT
public:
    RunsDock(RunTableModel* model, QWidget* parent = nullptr);

    /// Selected run ids, in the order shown.
    QList<qint64> selectedRuns() const;
    void selectRun(qint64 id);
    QTableView* view() const { return m_view; }
    QLineEdit* filter() const { return m_filter; }
    RunFilterModel* proxy() const { return m_proxy; }
    QComboBox* grouping() const { return m_grouping; }
    /// The groups table (hidden without grouping).
    QTableView* groupsView() const { return m_groupsView; }
    /// Re-reads the groups from the runs (the model calls this when runs change).
    void updateGroups();

Q_SIGNALS:
    void selectionChanged(const QList<qint64>& ids);
    /// The user asked for the context menu of the selected runs.
    void contextMenuRequested(const QPoint& globalPos);

private:
    /// Sizes the columns to their contents, long texts capped (and elided).
    void fitColumns();

    RunTableModel* m_model;
    RunFilterModel* m_proxy;
    QLineEdit* m_filter;
    QTableView* m_view;
    QComboBox* m_grouping = nullptr;
    QStandardItemModel* m_groups = nullptr;
    QTableView* m_groupsView = nullptr;
};

}  // namespace itera::ui
