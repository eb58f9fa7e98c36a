#pragma once
// The training worker: lives on the controller's thread, opens its own run
// store connection, prepares data, creates or resumes the run and trains it.
// Progress goes into the shared mailbox; only rare events are signals.

#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <mutex>

#include "training_job.h"

namespace itera::ui {

/// State shared by the controller (GUI thread) and the worker.
struct TrainingMailbox {
    TrainControl control;  ///< pause / stop flags, set directly
    std::atomic<bool> cancelPreparation{false};

    std::mutex mutex;  ///< guards everything below
    TrainingJob job;   ///< the job the worker runs next
    ProgressBatch pending;
};

class TrainingWorker : public QObject {
    Q_OBJECT
public:
    TrainingWorker(QString databasePath, std::shared_ptr<TrainingMailbox> box);

    /// Runs the mailbox's job to its end; invoked (queued) on the worker thread.
    Q_INVOKABLE void runJob();

Q_SIGNALS:
    void runCreated(qint64 runId);
    /// status: a RunStatus, or -1 when the job ended before it had a run.
    void jobEnded(qint64 runId, int status, const QString& message);

private:
    QString m_databasePath;
    std::shared_ptr<TrainingMailbox> m_box;
};

}  // namespace itera::ui
