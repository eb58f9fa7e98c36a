#pragma once
// The workbench's top-level window: the runs browser (dock), the training
// dashboard (centre), the open run's details (dock), the training controls
// (toolbar) and the live status (status bar). It owns the GUI thread's run
// store connection and the training controller; the pages do the drawing.

#include <QMainWindow>
#include <QTimer>

#include <functional>
#include <memory>

#include "store/run_store.h"
#include "training_job.h"

class QAction;
class QDockWidget;
class QLabel;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QTabWidget;
class QToolButton;

namespace itera::ui {

class ChartPanel;
class CompressionPage;
class ElidedLabel;
class PlaygroundPage;
class RunDetails;
class RunTableModel;
class ReportDialog;
class FeedbackDialog;
class WelcomePage;
class RunsDock;
class SweepsPage;
class TrainingController;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    /// Opens the workspace's run store (throws itera::Error when it cannot).
    explicit MainWindow(const Workspace& workspace, QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Queues a new run (what the dialog's Start does).
    void startRun(const NewRunRequest& request);
    void resumeRun(qint64 id);
    /// Re-reads the runs from the store.
    void refreshRuns();
    /// Opens these runs in the dashboard (as selecting them in the list does).
    void openRuns(const QList<qint64>& ids);
    /// When false, closing while training stops the run without asking (tests, scripts).
    void setAskBeforeClosing(bool ask) { m_askBeforeClosing = ask; }

    TrainingController* training() const { return m_training; }
    ChartPanel* charts() const { return m_charts; }
    PlaygroundPage* playground() const { return m_playground; }
    /// Shows the playground with the open run's models offered.
    void showPlayground();
    /// Shows the compression inspector for the open run.
    void showCompressionPage();
    CompressionPage* compression() const { return m_compression; }
    SweepsPage* sweeps() const { return m_sweeps; }
    /// Shows the Sweeps tab.
    void showSweeps();
    /// Opens the report preview for the selected runs (the open ones when
    /// none is selected); returns it (it deletes itself when closed).
    ReportDialog* showReport();
    /// Serving → Feedback and adaptations…: the server's rated answers and `itera adapt` runs.
    FeedbackDialog* showFeedback();
    RunsDock* runsDock() const { return m_runsDock; }
    RunTableModel* runModel() const { return m_model; }
    RunDetails* details() const { return m_details; }
    /// The first-run page, shown in the Training tab while the store has no run.
    WelcomePage* welcome() const { return m_welcome; }
    bool showsWelcome() const;
    /// Whether resuming `run` can get anywhere: stopped and interrupted runs, and
    /// failed ones with a step checkpoint, unless they diverged (the same steps
    /// would diverge again).
    bool canResume(const RunRecord& run) const;
    /// The message bar's text (errors, interrupted runs), empty when hidden.
    QString message() const;

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildActions();
    /// The Sweeps tab and its links to the runs (main_window_pages.cpp).
    void buildSweepsPage();
    void showMessage(const QString& text, bool error, const QString& action = {},
                     std::function<void()> onAction = {});
    void updateActions();
    void onProgress(const ProgressBatch& batch);
    void onRunEnded(qint64 runId, int status, const QString& message);
    void offerInterruptedRuns();
    void followExternalRuns();
    void offerModels();
    void showCompressions();
    void newRun(const RunRecord* from);
    void deleteSelected();
    void showDetails(qint64 id);

    Workspace m_workspace;
    std::unique_ptr<RunStore> m_store;
    TrainingController* m_training = nullptr;
    RunTableModel* m_model = nullptr;
    RunsDock* m_runsDock = nullptr;
    ChartPanel* m_charts = nullptr;
    QStackedWidget* m_trainingStack = nullptr;
    WelcomePage* m_welcome = nullptr;
    QTabWidget* m_pages = nullptr;
    PlaygroundPage* m_playground = nullptr;
    CompressionPage* m_compression = nullptr;
    SweepsPage* m_sweeps = nullptr;
    RunDetails* m_details = nullptr;
    QDockWidget* m_detailsDock = nullptr;
    QList<qint64> m_open;
    QTimer m_refreshTimer;

    QWidget* m_messageBar = nullptr;
    QLabel* m_messageText = nullptr;
    QPushButton* m_messageAction = nullptr;
    std::function<void()> m_onMessageAction;

    ElidedLabel* m_statusText = nullptr;
    QToolButton* m_queueButton = nullptr;
    qint64 m_messageResumes = 0;  ///< the run the message bar offers to resume, 0 if none
    QProgressBar* m_progress = nullptr;
    QAction* m_newRun = nullptr;
    QAction* m_clone = nullptr;
    QAction* m_rename = nullptr;
    QAction* m_resume = nullptr;
    QAction* m_pause = nullptr;
    QAction* m_continue = nullptr;
    QAction* m_stop = nullptr;
    QAction* m_delete = nullptr;
    QAction* m_tryModel = nullptr;
    QAction* m_report = nullptr;
    bool m_askBeforeClosing = true;
};

}  // namespace itera::ui
