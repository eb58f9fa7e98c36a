#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QSpinBox>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "app_settings.h"
#include "build_info.h"
#include "chart_panel.h"
#include "compression_page.h"
#include "data/builtin.h"
#include "duration_text.h"
#include "elided_label.h"
#include "feedback_dialog.h"
#include "model_choices.h"
#include "new_run_dialog.h"
#include "playground_page.h"
#include "report_dialog.h"
#include "run_details.h"
#include "run_table_model.h"
#include "runs_dock.h"
#include "settings_dialog.h"
#include "sweeps_page.h"
#include "train/train_settings.h"
#include "training_controller.h"
#include "util/log.h"
#include "util/threads.h"
#include "welcome_page.h"

namespace itera::ui {
namespace {

QString runTitle(const RunRecord& r) {
    return MainWindow::tr("run #%1 “%2”").arg(r.id).arg(QString::fromStdString(r.name));
}

}  // namespace

MainWindow::MainWindow(const Workspace& workspace, QWidget* parent)
    : QMainWindow(parent), m_workspace(workspace) {
    setWindowTitle(tr("Itera-Lite Workbench"));
    resize(1280, 800);
    m_store = std::make_unique<RunStore>(m_workspace.db_path);
    m_training = new TrainingController(m_workspace, this);
    m_model = new RunTableModel(this);

    // Centre: the message bar above the dashboard.
    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    m_messageBar = new QWidget(central);
    m_messageBar->setObjectName(QStringLiteral("messageBar"));
    auto* bar = new QHBoxLayout(m_messageBar);
    bar->setContentsMargins(8, 4, 8, 4);
    m_messageText = new QLabel(m_messageBar);
    m_messageText->setWordWrap(true);
    m_messageText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_messageAction = new QPushButton(m_messageBar);
    auto* close = new QPushButton(tr("Dismiss"), m_messageBar);
    bar->addWidget(m_messageText, 1);
    bar->addWidget(m_messageAction);
    bar->addWidget(close);
    m_messageBar->hide();
    connect(close, &QPushButton::clicked, m_messageBar, &QWidget::hide);
    connect(m_messageAction, &QPushButton::clicked, this, [this] {
        m_messageBar->hide();
        if (m_onMessageAction) m_onMessageAction();
    });
    layout->addWidget(m_messageBar);
    m_pages = new QTabWidget(central);
    m_pages->setObjectName(QStringLiteral("pages"));
    // The Training tab shows the welcome page while the store has no run.
    m_trainingStack = new QStackedWidget(m_pages);
    m_welcome = new WelcomePage(m_workspace, m_trainingStack);
    m_charts = new ChartPanel(m_trainingStack);
    m_trainingStack->addWidget(m_charts);
    m_trainingStack->addWidget(m_welcome);
    connect(m_welcome, &WelcomePage::startRequested, this, &MainWindow::startRun);
    connect(m_welcome, &WelcomePage::newRunRequested, this, [this] { newRun(nullptr); });
    m_pages->addTab(m_trainingStack, tr("Training"));
    m_compression = new CompressionPage(m_workspace, m_pages);
    connect(m_compression, &CompressionPage::compressed, this, [this] {
        showCompressions();
        refreshRuns();
    });
    m_pages->addTab(m_compression, tr("Compression"));
    m_playground = new PlaygroundPage(m_store.get(), m_pages);
    m_pages->addTab(m_playground, tr("Playground"));
    buildSweepsPage();
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);
    connect(m_pages, &QTabWidget::currentChanged, this, [this](int) {
        if (m_pages->currentWidget() == m_playground) offerModels();
        if (m_pages->currentWidget() == m_compression) showCompressions();
    });

    // Top: the runs browser and the open run's details, side by side.
    m_runsDock = new RunsDock(m_model, this);
    addDockWidget(Qt::TopDockWidgetArea, m_runsDock);
    m_detailsDock = new QDockWidget(tr("Run details"), this);
    m_detailsDock->setObjectName(QStringLiteral("detailsDock"));
    m_details = new RunDetails(m_detailsDock);
    m_detailsDock->setWidget(m_details);
    addDockWidget(Qt::TopDockWidgetArea, m_detailsDock);
    splitDockWidget(m_runsDock, m_detailsDock, Qt::Horizontal);
    resizeDocks({m_runsDock, m_detailsDock}, {760, 500}, Qt::Horizontal);
    // The docks take a fifth of a short screen's height: the pages need the rest.
    const int screenHeight = screen() ? screen()->availableGeometry().height() : 1000;
    resizeDocks({m_runsDock}, {std::clamp(screenHeight / 5, 140, 270)}, Qt::Vertical);

    m_statusText = new ElidedLabel(this);  // a long phase never widens the window
    m_statusText->setObjectName(QStringLiteral("trainingStatus"));
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("trainingProgress"));
    m_progress->setMaximumWidth(220);
    m_progress->setTextVisible(true);
    m_progress->hide();
    // The queue: runs waiting for the current one, each of them cancellable.
    m_queueButton = new QToolButton(this);
    m_queueButton->setObjectName(QStringLiteral("queue"));
    m_queueButton->setPopupMode(QToolButton::InstantPopup);
    m_queueButton->setToolTip(tr("Runs waiting for the current one to end; click to cancel one"));
    auto* queueMenu = new QMenu(m_queueButton);
    m_queueButton->setMenu(queueMenu);
    m_queueButton->hide();
    connect(queueMenu, &QMenu::aboutToShow, this, [this, queueMenu] {
        queueMenu->clear();
        const auto jobs = m_training->queuedJobs();
        int position = 0;
        for (const auto& [id, label] : jobs) {
            auto* a = queueMenu->addAction(tr("%1. Cancel “%2”").arg(++position).arg(label));
            connect(a, &QAction::triggered, this, [this, id = id] {
                m_training->dropQueued(id);
                updateActions();
            });
        }
        if (jobs.size() > 1) {
            queueMenu->addSeparator();
            connect(queueMenu->addAction(tr("Cancel all %1").arg(jobs.size())), &QAction::triggered,
                    this, [this] {
                        m_training->clearQueue();
                        updateActions();
                    });
        }
    });
    statusBar()->addWidget(m_statusText, 1);
    statusBar()->addPermanentWidget(m_queueButton);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->setToolTip(buildInfoLine());

    buildActions();

    // An empty selection (a filter hid the rows, a click on empty space) keeps
    // the open runs on screen.
    connect(m_runsDock, &RunsDock::selectionChanged, this, [this](const QList<qint64>& ids) {
        if (!ids.isEmpty()) openRuns(ids);
        updateActions();
    });
    connect(m_runsDock, &RunsDock::contextMenuRequested, this, [this](const QPoint& at) {
        QMenu menu(this);
        menu.addAction(m_clone);
        menu.addAction(m_rename);
        menu.addAction(m_resume);
        menu.addAction(m_tryModel);
        menu.addAction(m_report);
        menu.addSeparator();
        menu.addAction(m_delete);
        menu.exec(at);
    });
    connect(m_training, &TrainingController::progressed, this, &MainWindow::onProgress);
    connect(m_training, &TrainingController::runStarted, this, [this](qint64 id) {
        log_line("info", "run " + std::to_string(id) + " started");
        refreshRuns();
        m_runsDock->selectRun(id);
    });
    connect(m_training, &TrainingController::runEnded, this, &MainWindow::onRunEnded);
    connect(m_training, &TrainingController::jobFailed, this, [this](const QString& message) {
        // A new run's settings are not lost: the dialog opens again with them.
        if (const auto request = m_training->lastRequest())
            showMessage(tr("The run could not start: %1").arg(message), true, tr("Edit and retry…"),
                        [this, request] {
                            NewRunDialog dialog(m_workspace, this);
                            dialog.setRequest(*request);
                            if (dialog.exec() == QDialog::Accepted) startRun(dialog.request());
                        });
        else
            showMessage(tr("The run could not start: %1").arg(message), true);
        m_progress->hide();
        m_statusText->setText(tr("Idle"));
    });
    connect(m_training, &TrainingController::busyChanged, this, &MainWindow::updateActions);
    connect(m_training, &TrainingController::queueChanged, this, &MainWindow::updateActions);
    connect(m_details, &RunDetails::notesSaved, this, [this](qint64 id, const QString& notes) {
        try {
            m_store->set_notes(id, notes.toStdString());
        } catch (const std::exception& e) {
            showMessage(tr("The notes of run %1 could not be saved: %2")
                            .arg(id)
                            .arg(QString::fromStdString(e.what())),
                        true);
        }
        // Later: this may be called while the details switch to another run.
        QTimer::singleShot(0, this, &MainWindow::refreshRuns);
    });
    connect(m_details, &RunDetails::tagAdded, this, [this](qint64 id, const QString& tag) {
        m_store->add_tag(id, tag.toStdString());
        refreshRuns();
        showDetails(id);
    });
    connect(m_details, &RunDetails::tagRemoved, this, [this](qint64 id, const QString& tag) {
        m_store->remove_tag(id, tag.toStdString());
        refreshRuns();
        showDetails(id);
    });

    // Runs change under us (the trainer, or `itera train` in a terminal).
    m_refreshTimer.setInterval(1000);
    connect(&m_refreshTimer, &QTimer::timeout, this, &MainWindow::refreshRuns);
    m_refreshTimer.start();

    refreshRuns();
    restoreGeometry(settings::windowGeometry.value());
    restoreState(settings::windowState.value());
    m_statusText->setText(tr("Idle · %n run(s) in %1", nullptr, m_model->rowCount())
                              .arg(QString::fromStdString(m_workspace.db_path.string())));
    offerInterruptedRuns();
    updateActions();
}

MainWindow::~MainWindow() = default;

QString MainWindow::message() const {
    return m_messageBar->isVisibleTo(this) ? m_messageText->text() : QString();
}

void MainWindow::showMessage(const QString& text, bool error, const QString& action,
                             std::function<void()> onAction) {
    if (error) log_line("error", text.toStdString());
    m_messageResumes = 0;
    m_messageText->setText(text);
    m_messageBar->setStyleSheet(error ? QStringLiteral("#messageBar { background: #fdecea; }")
                                      : QStringLiteral("#messageBar { background: #e8f0fe; }"));
    m_messageAction->setText(action);
    m_messageAction->setVisible(!action.isEmpty());
    m_onMessageAction = std::move(onAction);
    m_messageBar->show();
}

void MainWindow::refreshRuns() {
    try {
        m_model->setRuns(readRunSummaries(*m_store));
        const bool first = m_model->rowCount() == 0;  // until the first run is created
        m_trainingStack->setCurrentWidget(first ? static_cast<QWidget*>(m_welcome) : m_charts);
    } catch (const std::exception& e) {
        showMessage(tr("Reading the run store failed: %1").arg(QString::fromStdString(e.what())),
                    true);
    }
    followExternalRuns();
    if (m_open.size() == 1) showDetails(m_open.front());
    updateActions();
}

void MainWindow::followExternalRuns() {
    // Open runs that train in another process (`itera train`): their new points
    // are read from the store from the last step shown on (its evaluation may
    // have been stored after its training points; re-adding a step replaces it).
    for (auto id : m_open) {
        const auto* r = m_model->run(id);
        if (!r || id == m_training->currentRunId() ||
            (r->record.status != RunStatus::Running && r->record.status != RunStatus::Paused))
            continue;
        try {
            m_charts->appendPoints(id, m_store->metrics_after(id, m_charts->lastStep(id) - 1));
        } catch (const std::exception&) {
            // the next refresh tries again; the list reports store errors
        }
    }
}

void MainWindow::openRuns(const QList<qint64>& ids) {
    m_open = ids;
    m_sweeps->setOpenRun(ids.isEmpty() ? 0 : ids.front());
    std::vector<RunCurves> curves;
    for (auto id : ids) {
        RunCurves c;
        c.id = id;
        const auto* summary = m_model->run(id);
        c.name =
            summary
                ? QStringLiteral("#%1 %2").arg(id).arg(QString::fromStdString(summary->record.name))
                : QStringLiteral("#%1").arg(id);
        try {
            c.add(m_store->metrics(id));
        } catch (const std::exception& e) {
            showMessage(QString::fromStdString(e.what()), true);
        }
        try {
            if (summary) {
                const auto model = TrainSettings::from_json(summary->record.config_json).model;
                for (std::int64_t l = 0; l < model.num_layers; ++l)
                    if (model.is_moe_layer(l)) c.moeLayers.push_back(static_cast<int>(l));
            }
        } catch (const std::exception&) {
            // unreadable settings: the expert-load layers go by their MoE index
        }
        curves.push_back(std::move(c));
    }
    m_charts->showRuns(std::move(curves));
    if (ids.size() > 1) {  // several runs: what sets them apart
        std::vector<RunRecord> records;
        for (auto id : ids)
            if (const auto* r = m_model->run(id)) records.push_back(r->record);
        m_details->showDifferences(records);
    } else {
        showDetails(ids.size() == 1 ? ids.front() : 0);
    }
    if (m_pages->currentWidget() == m_playground) offerModels();
    if (m_pages->currentWidget() == m_compression) showCompressions();
    updateActions();
}

void MainWindow::showDetails(qint64 id) {
    const auto* summary = id ? m_model->run(id) : nullptr;
    if (!summary) {
        m_details->showRun(nullptr, {});
        return;
    }
    std::vector<CheckpointRecord> checkpoints;
    try {
        checkpoints = m_store->checkpoints(id);
    } catch (const std::exception&) {
        // shown without its checkpoints; the list refresh reports store errors
    }
    m_details->showRun(&summary->record, checkpoints, summary->latest);
}

void MainWindow::startRun(const NewRunRequest& request) {
    TrainingJob job;
    job.create = request;
    const bool queued = m_training->busy();
    m_training->enqueue(std::move(job));
    if (queued)
        m_statusText->setText(tr("“%1” is queued; it starts when the current run ends")
                                  .arg(TrainingJob{request, 0}.label()));
}

void MainWindow::resumeRun(qint64 id) {
    if (m_messageResumes == id) m_messageBar->hide();  // its offer is taken, however
    if (id == m_training->currentRunId()) return;
    TrainingJob job;
    job.resumeRunId = id;
    m_training->enqueue(std::move(job));
}

void MainWindow::newRun(const RunRecord* from) {
    NewRunDialog dialog(m_workspace, this);
    if (from) {
        try {
            dialog.setFromRun(*from);
        } catch (const std::exception& e) {
            showMessage(tr("Run %1's settings cannot be reused: %2")
                            .arg(from->id)
                            .arg(QString::fromStdString(e.what())),
                        true);
            return;
        }
    }
    if (dialog.exec() == QDialog::Accepted) startRun(dialog.request());
}

void MainWindow::onProgress(const ProgressBatch& batch) {
    if (batch.runId) m_charts->appendPoints(batch.runId, batch.points);
    if (!batch.latest) {
        m_statusText->setText(batch.runId ? tr("Run %1: %2").arg(batch.runId).arg(batch.phase)
                                          : tr("Preparing data (tokenizer and token cache)…"));
        m_progress->show();
        if (batch.prepareFraction >= 0) {
            m_progress->setRange(0, 1000);
            m_progress->setValue(static_cast<int>(batch.prepareFraction * 1000));
            m_progress->setFormat(tr("tokenising %p%"));
        } else {
            m_progress->setRange(0, 0);  // busy
        }
        return;
    }
    const auto& p = *batch.latest;
    QStringList parts;
    parts << tr("Run %1 %2").arg(batch.runId).arg(batch.phase);
    // A time budget's step count is a plan that follows the pace: "planned".
    parts << (p.total_steps
                  ? (p.budget_s > 0 ? tr("step %1 of ~%2 planned") : tr("step %1 / %2"))
                        .arg(QLocale().toString(static_cast<qlonglong>(p.step)),
                             QLocale().toString(static_cast<qlonglong>(p.total_steps)))
                  : tr("step %1").arg(QLocale().toString(static_cast<qlonglong>(p.step))));
    if (p.step > 0) parts << tr("loss %1").arg(p.train_loss, 0, 'f', 4);
    if (p.eval)
        parts << tr("val %1 · ppl %2 · %3 bits/byte")
                     .arg(p.eval->loss, 0, 'f', 4)
                     .arg(p.eval->perplexity, 0, 'f', 2)
                     .arg(p.eval->bits_per_byte, 0, 'f', 3);
    if (p.tokens_per_s > 0)
        parts << tr("%1 tokens/s").arg(QLocale().toString(std::round(p.tokens_per_s), 'f', 0));
    if (p.eta_s > 0) parts << tr("ETA %1").arg(durationText(p.eta_s));
    if (m_training->queuedCount() > 0) parts << tr("%n queued", nullptr, m_training->queuedCount());
    m_statusText->setText(parts.join(QStringLiteral(" · ")));
    m_progress->show();
    if (p.budget_s > 0) {  // a time budget: the bar is the time, which its plan follows
        m_progress->setRange(0, 1000);
        m_progress->setValue(static_cast<int>(std::clamp(p.wall_s / p.budget_s, 0.0, 1.0) * 1000));
        m_progress->setFormat(
            tr("%1 of %2")
                .arg(p.wall_s >= 1 ? durationText(p.wall_s) : QStringLiteral("0 s"),
                     durationText(p.budget_s)));
    } else if (p.total_steps > 0) {
        m_progress->setRange(0, static_cast<int>(std::min<std::int64_t>(p.total_steps, INT32_MAX)));
        m_progress->setValue(static_cast<int>(std::min(p.step, p.total_steps)));
        m_progress->setFormat(QStringLiteral("%p%"));
    } else {
        m_progress->setRange(0, 0);
    }
}

void MainWindow::onRunEnded(qint64 runId, int status, const QString& message) {
    refreshRuns();
    if (m_open.contains(runId)) openRuns(m_open);  // the final points, as stored
    m_progress->hide();
    const auto s = static_cast<RunStatus>(status);
    const auto name = QString::fromStdString(run_status_name(s));
    log_line("info", "run " + std::to_string(runId) + " " + name.toStdString() +
                         (message.isEmpty() ? "" : ": " + message.toStdString()));
    if (s == RunStatus::Failed && message.startsWith(QStringLiteral("training diverged"))) {
        // Resuming would replay the same steps: offer a copy with a lower rate to edit.
        showMessage(tr("Run %1 failed: %2").arg(runId).arg(message), true, tr("Clone with edits…"),
                    [this, runId] {
                        if (const auto* r = m_model->run(runId)) newRun(&r->record);
                    });
    } else if (s == RunStatus::Failed) {
        const auto* r = m_model->run(runId);
        if (r && canResume(r->record)) {
            showMessage(tr("Run %1 failed: %2").arg(runId).arg(message), true,
                        tr("Resume run %1").arg(runId), [this, runId] { resumeRun(runId); });
            m_messageResumes = runId;
        } else {
            showMessage(tr("Run %1 failed: %2").arg(runId).arg(message), true);
        }
    } else if (s == RunStatus::Stopped) {
        showMessage(tr("Run %1 stopped; its checkpoint is saved.").arg(runId), false,
                    tr("Resume run %1").arg(runId), [this, runId] { resumeRun(runId); });
        m_messageResumes = runId;
    }
    m_statusText->setText(message.isEmpty() ? tr("Run %1 %2").arg(runId).arg(name)
                                            : tr("Run %1 %2: %3").arg(runId).arg(name, message));
}

void MainWindow::offerInterruptedRuns() {
    QList<qint64> ids;
    QString latest;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const auto id = m_model->index(row, 0).data(RunTableModel::RunIdRole).toLongLong();
        const auto* r = m_model->run(id);
        if (r && r->record.status == RunStatus::Interrupted) {
            ids << id;
            latest = runTitle(r->record);
        }
    }
    if (ids.isEmpty()) return;
    const auto newest = ids.back();
    showMessage(tr("%n run(s) were interrupted (the workbench or the machine stopped while they "
                   "trained); the newest is %1. A run resumes from its latest checkpoint.",
                   nullptr, static_cast<int>(ids.size()))
                    .arg(latest),
                false, tr("Resume run %1").arg(newest), [this, newest] { resumeRun(newest); });
    m_messageResumes = newest;
}

bool MainWindow::showsWelcome() const {
    return m_trainingStack->currentWidget() == m_welcome;
}

ReportDialog* MainWindow::showReport() {
    auto ids = m_runsDock->selectedRuns();
    if (ids.isEmpty()) ids = m_open;
    auto* dialog = new ReportDialog(*m_store, ids, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
    return dialog;
}

FeedbackDialog* MainWindow::showFeedback() {
    auto* dialog = new FeedbackDialog(*m_store, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
    return dialog;
}

void MainWindow::deleteSelected() {
    const auto ids = m_runsDock->selectedRuns();
    if (ids.isEmpty() || ids.contains(m_training->currentRunId())) return;
    QStringList names;
    for (auto id : ids)
        if (const auto* r = m_model->run(id)) names << runTitle(r->record);
    if (QMessageBox::question(this, tr("Delete %n run(s)", nullptr, static_cast<int>(ids.size())),
                              tr("Delete %1 with all metrics and checkpoints? This cannot be "
                                 "undone.")
                                  .arg(names.join(QStringLiteral(", ")))) != QMessageBox::Yes)
        return;
    for (auto id : ids) {
        try {
            const auto note = m_store->delete_run(id);
            if (!note.empty())
                showMessage(tr("Run %1 deleted; %2").arg(id).arg(QString::fromStdString(note)),
                            true);
        } catch (const std::exception& e) {
            showMessage(QString::fromStdString(e.what()), true);
        }
    }
    refreshRuns();
    QList<qint64> still;
    for (auto id : m_open)
        if (!ids.contains(id)) still << id;
    openRuns(still);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_training->busy()) {
        if (m_askBeforeClosing &&
            QMessageBox::question(this, tr("A run is training"),
                                  tr("Stop run %1 and quit? It saves a checkpoint first and can "
                                     "be resumed later.")
                                      .arg(m_training->currentRunId())) != QMessageBox::Yes) {
            event->ignore();
            return;
        }
        m_statusText->setText(tr("Stopping the run and saving a checkpoint…"));
        m_training->stopAndWait();
    }
    m_details->flushNotes();
    settings::windowGeometry.set(saveGeometry());
    settings::windowState.set(saveState());
    event->accept();
}

}  // namespace itera::ui
