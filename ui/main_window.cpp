#include "main_window.h"

#include <QLabel>
#include <QStatusBar>
#include <QVBoxLayout>

#include "build_info.h"

namespace itera::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("Itera-Lite Workbench"));
    resize(1100, 720);
    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    m_welcome = new QLabel(central);
    m_welcome->setObjectName(QStringLiteral("welcome"));
    m_welcome->setAlignment(Qt::AlignCenter);
    m_welcome->setWordWrap(true);
    m_welcome->setText(
        tr("<h2>Itera-Lite Workbench</h2>"
           "<p>Train small state-space + mixture-of-experts language models, "
           "compress them and compare the results.</p>"));
    layout->addWidget(m_welcome);
    setCentralWidget(central);
    statusBar()->showMessage(buildInfoLine());
}

}  // namespace itera::ui
