#pragma once
// Runs training jobs one at a time on a worker thread and reports their
// progress to the GUI thread in batches (about every 100 ms), so the GUI never
// waits for training, data preparation or SQLite writes.
//
// Pause, resume and stop are atomic flags the controller sets directly (a
// queued slot would not run while the worker is busy training).

#include <QObject>
#include <QThread>
#include <QTimer>

#include <deque>
#include <memory>

#include "training_job.h"

namespace itera::ui {

struct TrainingMailbox;
class TrainingWorker;

class TrainingController : public QObject {
    Q_OBJECT
public:
    /// Jobs use the run store at `databasePath` through the worker's own connection.
    explicit TrainingController(const QString& databasePath, QObject* parent = nullptr);
    /// Stops a running job (which saves a checkpoint) and waits for the worker.
    ~TrainingController() override;

    /// Queues a job; it starts at once when nothing else trains.
    void enqueue(TrainingJob job);
    bool busy() const { return m_busy; }
    /// The run being trained, 0 when none (or while its data is prepared).
    qint64 currentRunId() const { return m_runId; }
    int queuedCount() const { return static_cast<int>(m_queue.size()); }
    bool paused() const;

    void pause();
    void resume();
    /// Stops the current job: cancels data preparation, or ends training
    /// after the current step with a checkpoint (status `stopped`).
    void stop();
    /// Drops the jobs that have not started.
    void clearQueue();
    /// stop(), then waits (processing events) until the worker is idle.
    void stopAndWait();

Q_SIGNALS:
    void runStarted(qint64 runId);
    void progressed(const itera::ui::ProgressBatch& batch);
    /// A run ended (finished, stopped, failed); `message` says why when not finished.
    void runEnded(qint64 runId, int status, const QString& message);
    /// A job failed before it had a run (bad dataset, cancelled preparation, ...).
    void jobFailed(const QString& message);
    void busyChanged(bool busy);
    void queueChanged(int queued);

private:
    void startNext();
    void deliver();
    void onRunCreated(qint64 runId);
    void onJobEnded(qint64 runId, int status, const QString& message);

    std::shared_ptr<TrainingMailbox> m_box;
    QThread m_thread;
    TrainingWorker* m_worker = nullptr;
    QTimer m_deliveryTimer;
    std::deque<TrainingJob> m_queue;
    bool m_busy = false;
    qint64 m_runId = 0;
};

}  // namespace itera::ui
