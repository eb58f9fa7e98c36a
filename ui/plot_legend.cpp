#include "plot_legend.h"

#include "qcustomplot_include.h"

namespace itera::ui {

void placeLegendBelow(QCustomPlot* plot, int perRow) {
    auto* legend = plot->legend;
    plot->axisRect()->insetLayout()->take(legend);
    plot->plotLayout()->simplify();
    const int row = plot->plotLayout()->rowCount();
    auto* cell = new QCPLayoutGrid;
    plot->plotLayout()->addElement(row, 0, cell);
    cell->addElement(0, 0, legend);
    cell->setMargins(QMargins(0, 0, 0, 0));
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setWrap(perRow);
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setIconSize(QSize(16, 10));  // narrow entries: a row of them fits a small chart
    legend->setIconTextPadding(4);
    legend->setColumnSpacing(8);
    plot->plotLayout()->setRowStretchFactor(row, 0.001);  // as tall as the legend, no more
}

}  // namespace itera::ui
