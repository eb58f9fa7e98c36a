#include "report_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QTextDocument>
#include <QUrl>
#include <QVBoxLayout>

#include "report/report.h"
#include "store/run_store.h"

namespace itera::ui {
namespace {

constexpr int kKindRole = Qt::UserRole, kRunRole = Qt::UserRole + 1, kSourceRole = Qt::UserRole + 2;

QImage toImage(const Raster& r) {
    return QImage(r.rgb().data(), r.width(), r.height(), 3 * r.width(), QImage::Format_RGB888)
        .copy();
}

}  // namespace

ReportDialog::ReportDialog(RunStore& store, const QList<qint64>& runs, QWidget* parent)
    : QDialog(parent), m_store(store), m_runs(runs) {
    setWindowTitle(tr("Report"));
    resize(980, 760);
    auto* layout = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Report:"), this));
    m_kind = new QComboBox(this);
    m_kind->setObjectName(QStringLiteral("reportKind"));
    top->addWidget(m_kind, 1);
    layout->addLayout(top);

    if (runs.size() > 1) {
        QStringList ids;
        for (auto id : runs) ids << QString::number(id);
        m_kind->addItem(tr("Comparison of runs %1").arg(ids.join(QStringLiteral(", "))));
        m_kind->setItemData(m_kind->count() - 1, static_cast<int>(Kind::Compare), kKindRole);
    }
    for (auto id : runs) {
        m_kind->addItem(tr("Training report of run %1").arg(id));
        m_kind->setItemData(m_kind->count() - 1, static_cast<int>(Kind::Run), kKindRole);
        m_kind->setItemData(m_kind->count() - 1, id, kRunRole);
    }
    for (auto id : runs) {
        std::vector<CompressionRecord> records;
        try {
            records = store.compressions(id);
        } catch (const std::exception&) {
            continue;  // the report itself will name the store's problem
        }
        if (records.empty()) continue;
        const auto source = QString::fromStdString(records.back().source_path);
        m_kind->addItem(
            tr("Compressed models of run %1 (%2)").arg(id).arg(QFileInfo(source).fileName()));
        m_kind->setItemData(m_kind->count() - 1, static_cast<int>(Kind::Compression), kKindRole);
        m_kind->setItemData(m_kind->count() - 1, id, kRunRole);
        m_kind->setItemData(m_kind->count() - 1, source, kSourceRole);
    }

    m_preview = new QTextBrowser(this);
    m_preview->setObjectName(QStringLiteral("reportPreview"));
    m_preview->setOpenExternalLinks(true);
    layout->addWidget(m_preview, 1);

    auto* bottom = new QHBoxLayout;
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("reportStatus"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status->setWordWrap(true);
    bottom->addWidget(m_status, 1);
    m_export = new QPushButton(tr("Export Markdown…"), this);
    m_export->setObjectName(QStringLiteral("exportReport"));
    m_export->setToolTip(tr("Write the report as a .md file, its charts as PNG files beside it"));
    bottom->addWidget(m_export);
    auto* close = new QPushButton(tr("Close"), this);
    bottom->addWidget(close);
    layout->addLayout(bottom);

    connect(m_kind, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
    connect(m_export, &QPushButton::clicked, this, &ReportDialog::chooseFileAndExport);
    connect(close, &QPushButton::clicked, this, &QDialog::accept);
    if (m_kind->count() == 0) {
        m_preview->setPlainText(tr("Select one or more runs to report on."));
        m_export->setEnabled(false);
    } else {
        refresh();
    }
}

Report ReportDialog::build(const std::string& imagePrefix) const {
    ReportOptions options;
    options.image_prefix = imagePrefix;
    const auto kind = static_cast<Kind>(m_kind->currentData(kKindRole).toInt());
    const qint64 run = m_kind->currentData(kRunRole).toLongLong();
    switch (kind) {
        case Kind::Compare: {
            std::vector<std::int64_t> ids(m_runs.begin(), m_runs.end());
            return compare_report(m_store, ids, options);
        }
        case Kind::Compression:
            return compression_report(
                m_store, m_kind->currentData(kSourceRole).toString().toStdString(), options);
        case Kind::Run:
            break;
    }
    return run_report(m_store, run, options);
}

void ReportDialog::refresh() {
    QGuiApplication::setOverrideCursor(Qt::WaitCursor);
    QElapsedTimer timer;
    timer.start();
    try {
        const auto report = build("report");
        // The charts are handed to the document directly (setMarkdown clears
        // its resources, so they follow it), then the layout is redone with them.
        m_preview->setMarkdown(QString::fromStdString(report.markdown));
        auto* doc = m_preview->document();
        for (const auto& image : report.images)
            doc->addResource(QTextDocument::ImageResource,
                             QUrl(QString::fromStdString(image.file_name)), toImage(image.image));
        doc->markContentsDirty(0, doc->characterCount());
        m_status->setText(tr("Generated from the run store in %1 ms: %n chart(s).", nullptr,
                             static_cast<int>(report.images.size()))
                              .arg(timer.elapsed()));
        m_export->setEnabled(true);
    } catch (const std::exception& e) {
        m_preview->clear();
        m_status->setText(
            tr("The report cannot be made: %1").arg(QString::fromStdString(e.what())));
        m_export->setEnabled(false);
    }
    QGuiApplication::restoreOverrideCursor();
}

QString ReportDialog::exportTo(const QString& path) {
    QString file = path;
    if (!file.endsWith(QStringLiteral(".md"), Qt::CaseInsensitive)) file += QStringLiteral(".md");
    try {
        const std::filesystem::path out = file.toStdString();
        const auto report = build(image_prefix_for(out));
        write_report(report, out);
        m_status->setText(tr("Wrote %1 and %n chart(s) beside it.", nullptr,
                             static_cast<int>(report.images.size()))
                              .arg(QDir::toNativeSeparators(file)));
        return {};
    } catch (const std::exception& e) {
        const auto message = QString::fromStdString(e.what());
        m_status->setText(tr("Not exported: %1").arg(message));
        return message;
    }
}

void ReportDialog::chooseFileAndExport() {
    const auto kind = static_cast<Kind>(m_kind->currentData(kKindRole).toInt());
    QString name = QStringLiteral("report.md");
    if (kind == Kind::Run)
        name = QStringLiteral("run-%1-report.md").arg(m_kind->currentData(kRunRole).toLongLong());
    else if (kind == Kind::Compression)
        name =
            QStringLiteral("run-%1-compression.md").arg(m_kind->currentData(kRunRole).toLongLong());
    else
        name = QStringLiteral("comparison.md");
    const auto path = QFileDialog::getSaveFileName(
        this, tr("Export report"), QDir::home().filePath(name), tr("Markdown (*.md)"));
    if (!path.isEmpty()) exportTo(path);
}

}  // namespace itera::ui
