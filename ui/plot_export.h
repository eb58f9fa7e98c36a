#pragma once
// Saving what a chart shows: the picture (PNG, SVG or PDF, by the file's
// suffix) and its data as CSV, from the chart's context menu.

#include <QPoint>
#include <QString>

#include <functional>

class QCustomPlot;

namespace itera::ui {

/// Writes `plot` as it is shown; an empty string, or what went wrong.
QString savePlotImage(QCustomPlot* plot, const QString& path);

/// The context menu of a chart named `name`: save the image, save or copy
/// `csv()` (the chart's data).
void showExportMenu(QCustomPlot* plot, const QPoint& globalPos, const QString& name,
                    const std::function<QString()>& csv);

}  // namespace itera::ui
