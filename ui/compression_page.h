#pragma once
// The compression inspector: every compressed model the run store knows for
// the open run, with the figures `itera compress` measured (size, ratio, bits
// per weight, perplexity and its change, bits/byte, KL, top-1 agreement,
// decode speed); a scatter of size against quality with the Pareto front; and
// the per-tensor view of the selected result.

#include <QWidget>

#include <nlohmann/json.hpp>

#include <vector>

#include "store/run_store.h"

class QComboBox;
class QLabel;
class QStandardItemModel;
class QTableView;
class QCustomPlot;

namespace itera::ui {

/// A stored compression and its measured report.
struct CompressionRow {
    CompressionRecord record;
    nlohmann::json report;  ///< null when the stored settings are not a report
    bool fileExists = false;
};

class CompressionPage : public QWidget {
    Q_OBJECT
public:
    explicit CompressionPage(QWidget* parent = nullptr);

    /// Shows the compressions of run `runId` (0: none open).
    void showRun(qint64 runId, const std::vector<CompressionRecord>& records);
    int rowCount() const;
    /// Selects row `row` of the results (as clicking it or its point does).
    void selectRow(int row);
    int tensorRowCount() const;
    /// Points of the Pareto front drawn (size up, quality loss down).
    int paretoPoints() const { return m_pareto; }

private:
    void fillTable();
    void plot();
    void showTensors(int row);

    std::vector<CompressionRow> m_rows;
    QLabel* m_summary;
    QStandardItemModel* m_results;
    QTableView* m_resultsView;
    QComboBox* m_yMetric;
    QCustomPlot* m_scatter;
    QStandardItemModel* m_tensors;
    QTableView* m_tensorsView;
    std::vector<std::vector<int>> m_pointRows;  ///< graph index → rows of its points
    int m_pareto = 0;
};

}  // namespace itera::ui
