#pragma once
// The runs browser's grouping: runs that share a setting (or every setting
// but the seed) in one group, with the mean and sample standard deviation of
// their best validation figures, so seeds and settings can be told apart.

#include <QString>

#include <optional>
#include <vector>

#include "run_table_model.h"

namespace itera::ui {

enum class RunGrouping {
    None,
    AllButSeed,  ///< every setting and the data equal; only the seed (and threads) differ
    Preset,
    Dataset,
    LearningRate,
    WeightDecay,
    Dropout,
    Steps,
};

/// The combo box's entries, in order, with their labels.
std::vector<std::pair<RunGrouping, QString>> runGroupings();

/// Mean and sample standard deviation of the runs that have the figure.
struct GroupStat {
    int count = 0;
    double mean = 0, stddev = 0;  ///< stddev 0 with fewer than two
};

struct RunGroup {
    QString label;  ///< the shared value ("lr 0.002", "micro", "3 seeds of …")
    std::vector<qint64> ids;
    GroupStat bestBitsPerByte, bestValLoss;
};

/// Groups `runs` (in their order; groups in order of their first run).
std::vector<RunGroup> groupRuns(const std::vector<RunSummary>& runs, RunGrouping by);

/// "2.0412 ± 0.0130 (3)", "2.0412 (1)" or "–".
QString statText(const GroupStat& s);

}  // namespace itera::ui
