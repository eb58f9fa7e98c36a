#include "plot_export.h"

#include <QClipboard>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QMenu>
#include <QMessageBox>
#include <QSaveFile>
#include <QSvgGenerator>

#include "qcustomplot_include.h"

namespace itera::ui {

QString savePlotImage(QCustomPlot* plot, const QString& path) {
    const auto suffix = QFileInfo(path).suffix().toLower();
    bool ok = false;
    if (suffix == QLatin1String("png")) {
        ok = plot->savePng(path, 0, 0, 2.0);  // twice the screen's pixels
    } else if (suffix == QLatin1String("pdf")) {
        ok = plot->savePdf(path);
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(plot->size());
        svg.setViewBox(QRect(QPoint(0, 0), plot->size()));
        QCPPainter painter;
        ok = painter.begin(&svg);
        if (ok) {
            plot->toPainter(&painter, plot->width(), plot->height());
            ok = painter.end();
        }
    } else {
        return QObject::tr("%1: save as .png, .svg or .pdf").arg(path);
    }
    return ok ? QString() : QObject::tr("%1 could not be written").arg(path);
}

void showExportMenu(QCustomPlot* plot, const QPoint& globalPos, const QString& name,
                    const std::function<QString()>& csv) {
    QMenu menu(plot);
    menu.addAction(QObject::tr("Save chart as PNG, SVG or PDF…"), plot, [plot, name] {
        const auto path = QFileDialog::getSaveFileName(
            plot, QObject::tr("Save chart"), name + QStringLiteral(".png"),
            QObject::tr("PNG image (*.png);;SVG drawing (*.svg);;PDF (*.pdf)"));
        if (path.isEmpty()) return;
        const auto error = savePlotImage(plot, path);
        if (!error.isEmpty()) QMessageBox::warning(plot, QObject::tr("Save chart"), error);
    });
    menu.addAction(QObject::tr("Save data as CSV…"), plot, [plot, name, csv] {
        const auto path =
            QFileDialog::getSaveFileName(plot, QObject::tr("Save chart data"),
                                         name + QStringLiteral(".csv"), QObject::tr("CSV (*.csv)"));
        if (path.isEmpty()) return;
        QSaveFile file(path);  // the whole file or none
        if (!file.open(QIODevice::WriteOnly) || file.write(csv().toUtf8()) < 0 || !file.commit())
            QMessageBox::warning(
                plot, QObject::tr("Save chart data"),
                QObject::tr("%1 could not be written: %2").arg(path, file.errorString()));
    });
    menu.addAction(QObject::tr("Copy data as CSV"), plot,
                   [csv] { QGuiApplication::clipboard()->setText(csv()); });
    menu.exec(globalPos);
}

}  // namespace itera::ui
