#pragma once
// The runs of the store as a table: one row per run with its status, identity
// and latest figures. Rows are updated in place by run id, so a view keeps its
// selection while a run trains.

#include <QAbstractTableModel>
#include <QIcon>

#include <map>
#include <string>
#include <vector>

#include "store/run_store.h"

namespace itera::ui {

/// A run and its latest metric values, as read from the store.
struct RunSummary {
    RunRecord record;
    std::map<std::string, MetricPoint> latest;
    std::map<std::string, double> best;  ///< the lowest validation figures, by metric name
    double durationSeconds = 0;
};

/// Reads every run and its latest values (cheap: no metric history is scanned).
std::vector<RunSummary> readRunSummaries(RunStore& store);

/// A short name for the dataset of a stored run ("moby-dick", "novel.txt").
QString datasetLabel(const RunRecord& run);

/// A dot in the colour of a run status.
QIcon statusIcon(RunStatus status);

class RunTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // clang-format off
    enum Column {
        Status, Id, Name, ValLoss, Perplexity, BitsPerByte, BestValLoss, BestBitsPerByte,
        TrainLoss, Steps, Tokens, Duration, Preset, Dataset, Tags, Created, ColumnCount
    };
    // clang-format on
    /// Qt::UserRole of any cell: the value to sort by (numbers as numbers).
    static constexpr int SortRole = Qt::UserRole;
    /// Qt::UserRole + 1: the text the filter matches (name, tags, status, preset, dataset).
    static constexpr int FilterRole = Qt::UserRole + 1;
    /// Qt::UserRole + 2 of any cell: the run id.
    static constexpr int RunIdRole = Qt::UserRole + 2;

    explicit RunTableModel(QObject* parent = nullptr);

    /// Replaces the rows: runs gone are removed, new ones appended, the others updated.
    void setRuns(std::vector<RunSummary> runs);
    const RunSummary* run(qint64 id) const;
    const std::vector<RunSummary>& runs() const { return m_runs; }
    int rowOf(qint64 id) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    QVariant display(const RunSummary& r, int column) const;
    QVariant sortKey(const RunSummary& r, int column) const;
    std::vector<RunSummary> m_runs;
};

}  // namespace itera::ui
