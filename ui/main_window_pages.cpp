// The main window's pages besides training: the compression inspector and
// the playground follow the open run; the Sweeps tab opens a trial's run in
// the dashboard and clones the best trial into the new-run dialog.

#include <QTabWidget>

#include <filesystem>

#include "compression_page.h"
#include "main_window.h"
#include "model_choices.h"
#include "playground_page.h"
#include "run_table_model.h"
#include "sweeps_page.h"

namespace itera::ui {

void MainWindow::showCompressions() {
    const qint64 id = m_open.size() == 1 ? m_open.front() : 0;
    std::vector<CompressionRecord> records;
    try {
        if (id) records = m_store->compressions(id);
    } catch (const std::exception& e) {
        showMessage(QString::fromStdString(e.what()), true);
    }
    m_compression->showRun(id, records);
    QString source, outDir;
    if (id) {
        const auto dir = m_store->run_dir(id);
        if (std::filesystem::exists(dir / "best.safetensors"))
            source = QString::fromStdString((dir / "best.safetensors").string());
        outDir = QString::fromStdString((dir / "compressed").string());
    }
    m_compression->setSource(source, outDir);
}

void MainWindow::showCompressionPage() {
    m_pages->setCurrentWidget(m_compression);
    showCompressions();
}

void MainWindow::showPlayground() {
    m_pages->setCurrentWidget(m_playground);
    offerModels();
}

void MainWindow::offerModels() {
    try {
        const auto choices = storedModelChoices(*m_store);
        const auto [left, right] = m_open.size() == 1
                                       ? defaultModelPair(*m_store, m_open.front(), choices)
                                       : std::pair<QString, QString>();
        m_playground->setChoices(choices, left, right);
    } catch (const std::exception& e) {
        showMessage(tr("Listing the models failed: %1").arg(QString::fromStdString(e.what())),
                    true);
    }
}

void MainWindow::buildSweepsPage() {
    m_sweeps = new SweepsPage(m_workspace, m_store.get(), m_pages);
    m_sweeps->setObjectName(QStringLiteral("sweepsPage"));
    m_pages->addTab(m_sweeps, tr("Sweeps"));
    connect(m_sweeps, &SweepsPage::openRunRequested, this, [this](qint64 id) {
        refreshRuns();
        openRuns({id});
        m_pages->setCurrentIndex(0);
    });
    connect(m_sweeps, &SweepsPage::cloneRunRequested, this, [this](qint64 id) {
        refreshRuns();
        if (const auto* r = m_model->run(id)) newRun(&r->record);
    });
    connect(m_sweeps, &SweepsPage::sweepStarted, this, [this] { refreshRuns(); });
}

void MainWindow::showSweeps() {
    m_sweeps->refresh();
    m_pages->setCurrentWidget(m_sweeps);
}

}  // namespace itera::ui
