// `itera-workbench`: the desktop GUI. Thin: everything lives in ui/ and core/.

#include <QApplication>
#include <QCommandLineParser>

#include "main_window.h"
#include "util/threads.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("itera-workbench"));
    QApplication::setOrganizationName(QStringLiteral("itera-lite"));
    QApplication::setApplicationVersion(QStringLiteral(ITERA_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Itera-Lite Workbench: train, compress and compare "
                       "small state-space + MoE language models."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(app);

    itera::set_thread_count(0);
    itera::ui::MainWindow window;
    window.show();
    return QApplication::exec();
}
