#pragma once
// What the workbench asks the training worker to do, and what comes back:
// plain structs (no tensors, no widgets) that cross between threads.

#include <QMetaType>
#include <QString>

#include <cstdint>
#include <optional>
#include <vector>

#include "train/trainer.h"
#include "workflows/run_launch.h"

namespace itera::ui {

/// A new run: its data, its settings and whether `settings.model` is given
/// (else it is the preset's, sized once the tokenizer is known).
struct NewRunRequest {
    QString name;
    DataSpec data;
    TrainSettings settings;  ///< grad_accum: the step's micro-batches, all processes together
    bool modelGiven = false;
    /// The preset's architecture and ablations (when the model is not given).
    ModelVariant variant;
    /// Processes on this machine training the run together (docs/distributed.md).
    int processes = 1;
};

/// One queued piece of work: a new run, or resuming a stored one.
struct TrainingJob {
    std::optional<NewRunRequest> create;
    qint64 resumeRunId = 0;

    /// For the queue's tooltip: "quality on moby-dick" or "resume run 3".
    QString label() const;
};

/// What happened since the last delivery (about every 100 ms).
struct ProgressBatch {
    qint64 runId = 0;                 ///< 0 while the data is being prepared
    std::vector<MetricPoint> points;  ///< new metric points, as stored
    std::optional<TrainProgress>
        latest;                   ///< the newest report (no points), repeated until a newer one
    QString phase;                ///< "preparing data", "training", "paused", ...
    double prepareFraction = -1;  ///< data preparation progress, -1 when unknown
};

}  // namespace itera::ui

Q_DECLARE_METATYPE(itera::ui::ProgressBatch)
Q_DECLARE_METATYPE(itera::ui::NewRunRequest)
