// MainWindow's actions: the toolbar, the menus and what each action does,
// and which of them are enabled for the current selection.

#include <QAction>
#include <QClipboard>
#include <QDesktopServices>
#include <QGuiApplication>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QToolButton>
#include <QUrl>

#include "build_info.h"
#include "diagnostics.h"
#include "elided_label.h"
#include "main_window.h"
#include "run_table_model.h"
#include "runs_dock.h"
#include "settings_dialog.h"
#include "training_controller.h"
#include "user_guide.h"
#include "util/build_info.h"

namespace itera::ui {

void MainWindow::buildActions() {
    auto* st = style();
    m_newRun = new QAction(st->standardIcon(QStyle::SP_FileIcon), tr("&New run…"), this);
    m_newRun->setShortcut(QKeySequence::New);
    m_newRun->setToolTip(tr("Start a training run"));
    m_clone = new QAction(st->standardIcon(QStyle::SP_FileDialogDetailedView),
                          tr("&Clone with edits…"), this);
    m_clone->setToolTip(tr("A new run with the selected run's settings, to edit first"));
    m_rename = new QAction(tr("Rena&me…"), this);
    m_rename->setShortcut(QKeySequence(Qt::Key_F2));
    m_rename->setToolTip(tr("Give the selected run another name"));
    m_resume = new QAction(st->standardIcon(QStyle::SP_BrowserReload), tr("&Resume run"), this);
    m_resume->setToolTip(tr("Continue a stopped or interrupted run from its latest checkpoint"));
    m_pause = new QAction(st->standardIcon(QStyle::SP_MediaPause), tr("&Pause"), this);
    m_continue = new QAction(st->standardIcon(QStyle::SP_MediaPlay), tr("C&ontinue"), this);
    m_stop = new QAction(st->standardIcon(QStyle::SP_MediaStop), tr("&Stop"), this);
    m_stop->setToolTip(tr("Stop after the current step and save a checkpoint"));
    m_delete = new QAction(st->standardIcon(QStyle::SP_TrashIcon), tr("&Delete…"), this);
    m_tryModel =
        new QAction(st->standardIcon(QStyle::SP_DialogYesButton), tr("&Try in playground"), this);
    m_tryModel->setToolTip(
        tr("Generate text with the selected run's model, beside a compressed version"));
    m_report =
        new QAction(st->standardIcon(QStyle::SP_FileDialogContentsView), tr("Re&port…"), this);
    m_report->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_report->setToolTip(tr("Markdown report of the selected runs, with charts"));
    // Keyboard: Ctrl+Shift+letter for run control, named in each tooltip.
    m_clone->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N));
    m_resume->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    m_pause->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));
    m_continue->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    m_stop->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    m_delete->setShortcut(QKeySequence::Delete);
    m_tryModel->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    m_pause->setToolTip(tr("Pause training; nothing is lost"));
    m_continue->setToolTip(tr("Continue the paused run"));
    m_delete->setToolTip(tr("Delete the selected runs with their metrics and checkpoints"));
    for (auto* a : {m_newRun, m_clone, m_rename, m_resume, m_pause, m_continue, m_stop, m_delete,
                    m_tryModel, m_report}) {
        a->setObjectName(a->text().remove(QLatin1Char('&')).remove(QStringLiteral("…")));
        const auto keys = a->shortcut().toString(QKeySequence::NativeText);
        if (!keys.isEmpty() && !a->toolTip().contains(keys))
            a->setToolTip(QStringLiteral("%1 (%2)").arg(a->toolTip(), keys));
    }

    connect(m_newRun, &QAction::triggered, this, [this] { newRun(nullptr); });
    connect(m_clone, &QAction::triggered, this, [this] {
        const auto ids = m_runsDock->selectedRuns();
        if (const auto* r = ids.isEmpty() ? nullptr : m_model->run(ids.front())) newRun(&r->record);
    });
    connect(m_rename, &QAction::triggered, this, [this] {
        const auto ids = m_runsDock->selectedRuns();
        const auto* r = ids.size() == 1 ? m_model->run(ids.front()) : nullptr;
        if (!r) return;
        const auto id = r->record.id;
        bool ok = false;
        const auto name =
            QInputDialog::getText(this, tr("Rename run #%1").arg(id), tr("Name:"),
                                  QLineEdit::Normal, QString::fromStdString(r->record.name), &ok);
        if (!ok) return;
        try {
            m_store->rename_run(id, name.trimmed().toStdString());
        } catch (const std::exception& e) {
            showMessage(
                tr("Run %1 keeps its name: %2").arg(id).arg(QString::fromStdString(e.what())),
                true);
        }
        refreshRuns();
        showDetails(id);
    });
    connect(m_resume, &QAction::triggered, this, [this] {
        for (auto id : m_runsDock->selectedRuns()) resumeRun(id);
    });
    connect(m_pause, &QAction::triggered, this, [this] {
        m_training->pause();
        updateActions();
    });
    connect(m_continue, &QAction::triggered, this, [this] {
        m_training->resume();
        updateActions();
    });
    connect(m_stop, &QAction::triggered, this, [this] {
        m_training->stop();
        m_statusText->setText(tr("Stopping after the current step…"));
    });
    connect(m_delete, &QAction::triggered, this, &MainWindow::deleteSelected);
    connect(m_tryModel, &QAction::triggered, this, &MainWindow::showPlayground);
    connect(m_report, &QAction::triggered, this, &MainWindow::showReport);

    auto* tools = addToolBar(tr("Training"));
    tools->setObjectName(QStringLiteral("trainingToolbar"));
    tools->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    for (auto* a : {m_newRun, m_clone, m_resume, m_tryModel, m_report}) tools->addAction(a);
    tools->addSeparator();
    for (auto* a : {m_pause, m_continue, m_stop}) tools->addAction(a);

    auto* file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_newRun);
    auto* prefs = file->addAction(tr("&Settings…"));
    connect(prefs, &QAction::triggered, this, [this] { editSettings(this); });
    file->addSeparator();
    auto* quit = file->addAction(tr("&Quit"));
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &QWidget::close);
    auto* run = menuBar()->addMenu(tr("&Run"));
    for (auto* a : {m_clone, m_rename, m_resume, m_pause, m_continue, m_stop, m_report, m_delete})
        run->addAction(a);
    auto* serving = menuBar()->addMenu(tr("&Serving"));
    auto* feedback = serving->addAction(tr("&Feedback and adaptations…"));
    feedback->setToolTip(
        tr("Answers rated by the users of itera serve, and the runs itera adapt "
           "fine-tuned from them"));
    connect(feedback, &QAction::triggered, this, [this] { showFeedback(); });
    auto* view = menuBar()->addMenu(tr("&View"));
    const QStringList pages = {tr("&Training"), tr("&Compression"), tr("&Playground")};
    for (int i = 0; i < pages.size(); ++i) {
        auto* page = view->addAction(pages[i]);
        page->setShortcut(QKeySequence(Qt::CTRL | (Qt::Key_1 + i)));
        connect(page, &QAction::triggered, this, [this, i] { m_pages->setCurrentIndex(i); });
    }
    view->addSeparator();
    view->addAction(m_runsDock->toggleViewAction());
    view->addAction(m_detailsDock->toggleViewAction());
    auto* help = menuBar()->addMenu(tr("&Help"));
    auto* guide = help->addAction(tr("&User guide"));
    guide->setShortcut(QKeySequence::HelpContents);
    connect(guide, &QAction::triggered, this, [this] {
        const auto path = userGuidePath();
        if (path.isEmpty() || !QDesktopServices::openUrl(QUrl::fromLocalFile(path)))
            showMessage(path.isEmpty() ? tr("The user guide (docs/workbench.md) is not installed "
                                            "with this build.")
                                       : tr("No application opens %1.").arg(path),
                        true);
    });
    auto* keys = help->addAction(tr("&Keyboard shortcuts"));
    connect(keys, &QAction::triggered, this, [this] {
        QString rows;
        for (auto* a : findChildren<QAction*>()) {
            const auto k = a->shortcut().toString(QKeySequence::NativeText);
            if (!k.isEmpty())
                rows +=
                    QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>")
                        .arg(k.toHtmlEscaped(), a->text().remove(QLatin1Char('&')).toHtmlEscaped());
        }
        rows +=
            tr("<tr><td><b>Ctrl+Enter</b></td><td>Generate (playground)</td></tr>"
               "<tr><td><b>Esc</b></td><td>Stop generating (playground)</td></tr>");
        QMessageBox::information(this, tr("Keyboard shortcuts"),
                                 QStringLiteral("<table cellspacing=6>%1</table>").arg(rows));
    });
    help->addSeparator();
    auto* diagnostics = help->addAction(tr("Copy &diagnostics"));
    diagnostics->setToolTip(
        tr("Versions, system, settings and the newest log lines, for a bug report"));
    connect(diagnostics, &QAction::triggered, this, [this] {
        QGuiApplication::clipboard()->setText(diagnosticsText(m_store.get(), m_workspace));
        showMessage(tr("Diagnostics copied to the clipboard (versions, system, settings, the "
                       "newest log lines)."),
                    false);
    });
    auto* about = help->addAction(tr("&About"));
    connect(about, &QAction::triggered, this, [this] {
        QMessageBox::about(this, tr("About Itera-Lite Workbench"),
                           tr("<h3>Itera-Lite Workbench</h3><p>Train, compress and compare small "
                              "state-space + mixture-of-experts language models.</p><p>%1<br>"
                              "Build revision %2</p>")
                               .arg(buildInfoLine().toHtmlEscaped(),
                                    QString::fromStdString(git_revision()).toHtmlEscaped()));
    });
}

bool MainWindow::canResume(const RunRecord& run) const {
    if (run.status == RunStatus::Stopped || run.status == RunStatus::Interrupted) return true;
    if (run.status != RunStatus::Failed || run.message.rfind("training diverged", 0) == 0)
        return false;
    try {
        for (const auto& c : m_store->checkpoints(run.id))
            if (c.kind == "latest") return true;
    } catch (const std::exception&) {
        // the store reports its errors on the next refresh
    }
    return false;
}

void MainWindow::updateActions() {
    const auto ids = m_runsDock->selectedRuns();
    const auto* one = ids.size() == 1 ? m_model->run(ids.front()) : nullptr;
    const bool busy = m_training->busy();
    const auto current = m_training->currentRunId();
    m_clone->setEnabled(one != nullptr);
    m_rename->setEnabled(one != nullptr);
    bool resumable = !ids.isEmpty();
    for (auto id : ids) {
        const auto* r = m_model->run(id);
        resumable = resumable && r && id != current && canResume(r->record);
    }
    m_resume->setEnabled(resumable);
    m_pause->setEnabled(busy && current && !m_training->paused() && m_training->canPause());
    m_continue->setEnabled(busy && m_training->paused());
    m_stop->setEnabled(busy);
    m_delete->setEnabled(!ids.isEmpty() && !ids.contains(current));
    m_report->setEnabled(!ids.isEmpty() || !m_open.isEmpty());
    const int queued = m_training->queuedCount();
    m_queueButton->setText(tr("%n queued", nullptr, queued));
    m_queueButton->setVisible(queued > 0);
}

}  // namespace itera::ui
