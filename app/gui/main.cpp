// `itera-workbench`: the desktop GUI. Thin: everything lives in ui/ and core/.

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QMessageBox>
#include <QPointer>
#include <QTimer>

#include <clocale>
#include <cstdio>

#include "app_settings.h"
#include "build_info.h"
#include "feedback_dialog.h"
#include "main_window.h"
#include "new_run_dialog.h"
#include "playground_page.h"
#include "report_dialog.h"
#include "runs_dock.h"
#include "util/log.h"
#include "util/threads.h"

namespace {

void nameApplication() {
    QCoreApplication::setApplicationName(QStringLiteral("itera-workbench"));
    QCoreApplication::setOrganizationName(QStringLiteral("itera-lite"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ITERA_VERSION));
}

}  // namespace

int main(int argc, char** argv) {
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Itera-Lite Workbench: train, compress and compare "
                       "small state-space + MoE language models."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption database(
        QStringLiteral("db"), QStringLiteral("Run store to open (default: the settings' path)."),
        QStringLiteral("PATH"));
    const QCommandLineOption open(QStringLiteral("open"),
                                  QStringLiteral("Runs to open, comma-separated ids."),
                                  QStringLiteral("IDS"));
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a PNG of the window after --delay seconds, then quit (docs, checks)."),
        QStringLiteral("FILE"));
    const QCommandLineOption delay(QStringLiteral("delay"),
                                   QStringLiteral("Seconds before --screenshot (default 2)."),
                                   QStringLiteral("S"), QStringLiteral("2"));
    const QCommandLineOption size(QStringLiteral("size"),
                                  QStringLiteral("Window size, e.g. 1280x800."),
                                  QStringLiteral("WxH"));
    const QCommandLineOption resume(
        QStringLiteral("resume"),
        QStringLiteral("Resume run ID (stopped or interrupted) at start."), QStringLiteral("ID"));
    const QCommandLineOption playground(
        QStringLiteral("playground"),
        QStringLiteral("Show the playground (with the --open run's models) and generate PROMPT."),
        QStringLiteral("PROMPT"));
    const QCommandLineOption page(
        QStringLiteral("page"),
        QStringLiteral("Page to show: training, compression, playground or sweeps."),
        QStringLiteral("NAME"));
    const QCommandLineOption report(
        QStringLiteral("report"),
        QStringLiteral("Open the report preview of the --open runs (--screenshot shows it)."));
    const QCommandLineOption feedback(
        QStringLiteral("feedback"),
        QStringLiteral("Open Serving → Feedback and adaptations (--screenshot shows it)."));
    const QCommandLineOption newRun(
        QStringLiteral("new-run"),
        QStringLiteral("Open the new-run dialog (--screenshot shows it)."));
    parser.addOptions({database, open, resume, playground, page, report, feedback, newRun,
                       screenshot, delay, size});
    {
        // --help and --version answer without a display: the GUI application
        // (which needs a platform plugin) is created only after parsing.
        QCoreApplication core(argc, argv);
        nameApplication();
        parser.process(core);
    }
    QApplication app(argc, argv);
    nameApplication();
    // From the hicolor theme the package installs (packaging/); none in a build tree.
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("itera-workbench")));
    QGuiApplication::setDesktopFileName(QStringLiteral("org.iteralite.workbench"));

    // Qt set the C library's locale from the environment: numbers in files
    // (training state, JSON, CSV) are written and read in the "C" locale, the
    // same in the workbench as in the CLI.
    std::setlocale(LC_NUMERIC, "C");
    itera::set_thread_count(0);
    const auto workspace = itera::ui::workspaceFromSettings(parser.value(database));
    itera::open_log(workspace.log_dir(), "itera-workbench");
    std::unique_ptr<itera::ui::MainWindow> window;
    try {
        window = std::make_unique<itera::ui::MainWindow>(workspace);
    } catch (const std::exception& e) {
        QMessageBox::critical(nullptr, QStringLiteral("Itera-Lite Workbench"),
                              QStringLiteral("The run store cannot be opened: %1")
                                  .arg(QString::fromStdString(e.what())));
        std::fprintf(stderr, "itera-workbench: %s\n", e.what());
        return 1;
    }
    itera::log_line("info", "started: " + itera::ui::buildInfoLine().toStdString());
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& text) {
        if (type != QtDebugMsg && type != QtInfoMsg)
            itera::log_line(type == QtWarningMsg ? "qt-warning" : "qt-error", text.toStdString());
        std::fprintf(stderr, "%s\n", qPrintable(text));
    });
    if (parser.isSet(size)) {
        const auto wh = parser.value(size).split(QLatin1Char('x'));
        bool okW = false, okH = false;
        const int w = wh.size() == 2 ? wh[0].toInt(&okW) : 0;
        const int h = wh.size() == 2 ? wh[1].toInt(&okH) : 0;
        if (!okW || !okH || w < 200 || h < 200 || w > 16384 || h > 16384) {
            std::fprintf(stderr,
                         "itera-workbench: --size wants WIDTHxHEIGHT, e.g. 1366x768, got %s\n",
                         qPrintable(parser.value(size)));
            return 2;
        }
        // A size asked for wins over a maximised or full-screen state saved last time.
        window->setWindowState(window->windowState() &
                               ~(Qt::WindowMaximized | Qt::WindowFullScreen));
        window->resize(w, h);
    }
    window->show();
    if (parser.isSet(open)) {
        QList<qint64> ids;
        for (const auto& id : parser.value(open).split(QLatin1Char(','))) ids << id.toLongLong();
        if (ids.size() == 1)
            window->runsDock()->selectRun(ids.front());  // selected in the list, and opened
        else
            window->openRuns(ids);
    }
    if (parser.isSet(resume)) window->resumeRun(parser.value(resume).toLongLong());
    if (parser.value(page) == QLatin1String("compression")) window->showCompressionPage();
    if (parser.value(page) == QLatin1String("playground")) window->showPlayground();
    if (parser.value(page) == QLatin1String("sweeps")) window->showSweeps();
    if (parser.isSet(playground)) {
        window->showPlayground();
        window->playground()->setPrompt(parser.value(playground));
        window->playground()->generate();
    }
    QPointer<QWidget> shown = window.get();
    if (parser.isSet(report)) shown = window->showReport();
    if (parser.isSet(feedback)) shown = window->showFeedback();
    if (parser.isSet(newRun)) {  // modeless here, so --screenshot can grab it
        auto* dialog = new itera::ui::NewRunDialog(workspace, window.get());
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
        shown = dialog;
    }
    if (parser.isSet(screenshot)) {
        window->setAskBeforeClosing(false);
        QTimer::singleShot(static_cast<int>(parser.value(delay).toDouble() * 1000), window.get(),
                           [&] {
                               const auto file = parser.value(screenshot);
                               QWidget* target = shown ? shown.data() : window.get();
                               if (!target->grab().save(file))
                                   std::fprintf(stderr, "cannot write %s\n", qPrintable(file));
                               window->close();
                           });
    }
    return QApplication::exec();
}
