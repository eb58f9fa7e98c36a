#pragma once
// The Sweeps page: every sweep of the store; the chosen one's trials as a
// table (only the varied parameters as columns, then the objective, its step,
// the status and why a trial stopped), in parallel coordinates (brushing an
// axis filters the table) and as one parameter against the objective. Sweeps
// run as `itera sweep` processes, so they outlive the window; the page starts
// them (from a spec file, or around the open run), stops and resumes them
// through the store, and follows them by reading the store.

#include <QTimer>
#include <QWidget>

#include <optional>

#include "report/sweep_view.h"
#include "store/run_store.h"
#include "util/workspace.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;

namespace itera::ui {

class ParallelCoordinates;
class ElidedLabel;

class SweepsPage : public QWidget {
    Q_OBJECT
public:
    SweepsPage(const Workspace& workspace, RunStore* store, QWidget* parent = nullptr);

    /// Re-reads the sweeps and the chosen one's trials.
    void refresh();
    /// Shows sweep `id` (0: the newest).
    void showSweep(qint64 id);
    qint64 currentSweep() const { return m_sweepId; }
    /// The run `sweep around` starts from (the open run; 0: none).
    void setOpenRun(qint64 runId);
    /// Writes `spec` to the workspace's sweeps folder and starts it in an
    /// `itera sweep start` process; returns false (with the reason shown)
    /// when it cannot.
    bool startSpec(const std::string& specJson, int parallel);
    /// The spec "sweep around this run" makes for run `runId`.
    static std::string specAroundRun(RunStore& store, qint64 runId, int configurations,
                                     bool earlyStopping);

    QTableView* table() const { return m_table; }
    int visibleTrials() const;
    ParallelCoordinates* parallel() const { return m_parallel; }
    QString statusText() const;

Q_SIGNALS:
    /// A trial's run was double-clicked.
    void openRunRequested(qint64 runId);
    /// "Clone best as a new run": the new-run dialog with that run's settings.
    void cloneRunRequested(qint64 runId);
    /// A sweep was started (its runs will appear in the runs browser).
    void sweepStarted();

private:
    void fillTable();
    void fillScatter();
    void updateButtons();
    void chooseSpecFile();
    void sweepAroundRun();
    void saveReport();
    bool runItera(const QStringList& args);

    Workspace m_workspace;
    RunStore* m_store;
    qint64 m_sweepId = 0;
    qint64 m_openRun = 0;
    std::optional<SweepView> m_view;
    QComboBox* m_sweepChoice = nullptr;
    ElidedLabel* m_status = nullptr;
    QPushButton* m_fromSpec = nullptr;
    QPushButton* m_around = nullptr;
    QPushButton* m_resume = nullptr;
    QPushButton* m_stop = nullptr;
    QPushButton* m_cloneBest = nullptr;
    QPushButton* m_report = nullptr;
    QStandardItemModel* m_model = nullptr;
    QSortFilterProxyModel* m_filter = nullptr;
    QTableView* m_table = nullptr;
    ParallelCoordinates* m_parallel = nullptr;
    QComboBox* m_scatterParam = nullptr;
    QCustomPlot* m_scatter = nullptr;
    QLabel* m_error = nullptr;
    QTimer m_poll;
};

}  // namespace itera::ui
