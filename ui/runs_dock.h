#pragma once
// The runs browser: every run of the store in a sortable table with a word
// filter. Selecting one run opens it; selecting several overlays them.

#include <QDockWidget>
#include <QList>

class QLineEdit;
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
};

}  // namespace itera::ui
