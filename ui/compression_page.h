#pragma once
// The compression inspector: every compressed model the run store knows for
// the open run, with the figures `itera compress` measured (size, ratio, bits
// per weight, perplexity and its change, bits/byte, KL, top-1 agreement,
// decode speed); a scatter of size against quality with the Pareto front; and
// the per-tensor view of the selected result with its bytes per layer.

#include <QPointF>
#include <QWidget>

#include <memory>
#include <vector>

#include "jobs/job_runner.h"
#include "store/run_store.h"
#include "util/workspace.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QThread;
class QLabel;
class QStandardItemModel;
class QTableView;
class QCustomPlot;
class QTimer;

namespace itera::ui {

class ElidedLabel;

/// A stored compression (with its measured report) and whether its file is still there.
struct CompressionRow {
    CompressionRecord record;
    bool fileExists = false;
};

class CompressionPage : public QWidget {
    Q_OBJECT
public:
    /// Compressions are measured and recorded in `workspace`.
    explicit CompressionPage(const Workspace& workspace, QWidget* parent = nullptr);

    ~CompressionPage() override;

    /// Shows the compressions of run `runId` (0: none open).
    void showRun(qint64 runId, const std::vector<CompressionRecord>& records);
    /// What *Compress* works on: the open run's FP32 model, where compressed files
    /// go. An empty source disables it.
    void setSource(const QString& model, const QString& outDir);
    /// Compresses the source with each checked method on a worker, one after another.
    void compressChecked();
    bool compressing() const { return m_pending > 0; }
    /// The last compression job's error, empty when it succeeded.
    QString jobError() const { return m_jobError; }
    int rowCount() const;
    /// Selects row `row` of the results (as clicking it or its point does).
    void selectRow(int row);
    /// The selected row (as numbered for selectRow), -1 when none.
    int selectedRow() const;
    /// The row of the scatter point nearest `pixel` (scatter coordinates, within
    /// a dozen pixels), or -1.
    int rowAt(QPointF pixel) const;
    int tensorRowCount() const;
    /// Groups in the bytes-per-layer chart of the selected result (embedding, layer 0, ...).
    int layerGroups() const { return m_layerGroups; }
    /// Points of the Pareto front drawn (size up, quality loss down).
    int paretoPoints() const { return m_pareto; }

Q_SIGNALS:
    /// A compression job ended; the store holds its new reports.
    void compressed();

private:
    void onJobEnded(const QString& error);
    void fillTable();
    void plot();
    void showTensors(int row);
    void plotLayers(const std::vector<TensorReport>& tensors);
    /// The points of `plot`'s graphs and bars as CSV: series, x, y.
    QString plotCsv(QCustomPlot* plot, const QString& seriesName) const;

    std::vector<CompressionRow> m_rows;
    qint64 m_runId = 0;  ///< the run shown
    QLabel* m_summary;
    QStandardItemModel* m_results;
    QTableView* m_resultsView;
    QComboBox* m_yMetric;
    QCustomPlot* m_scatter;
    QStandardItemModel* m_tensors;
    QTableView* m_tensorsView;
    QCustomPlot* m_layers;
    std::vector<std::vector<int>> m_pointRows;  ///< graph index → rows of its points
    int m_pareto = 0;
    int m_layerGroups = 0;

    QString m_source, m_outDir;
    Workspace m_workspace;
    std::vector<QCheckBox*> m_methods;  ///< f16, bf16, int8, int4, nf4
    QSpinBox* m_groupSize;
    QCheckBox* m_mixed;
    QDoubleSpinBox* m_mixedTarget;
    QCheckBox* m_evaluate;
    QPushButton* m_compress;
    QPushButton* m_cancel;
    QProgressBar* m_progress;
    ElidedLabel* m_phase;
    JobRunner m_runner;
    int m_pending = 0;  ///< jobs of the current batch not yet ended
    int m_total = 0, m_done = 0;
    QString m_jobError;
};

}  // namespace itera::ui
