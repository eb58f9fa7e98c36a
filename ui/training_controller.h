#pragma once
// Runs training jobs one at a time on a JobRunner and reports their progress
// to the GUI thread in batches (about every 100 ms), so the GUI never waits
// for training, data preparation or SQLite writes.
//
// Pause, resume and stop are atomic flags the controller sets directly (a
// queued slot would not run while the job is busy training).

#include <QObject>

#include <map>
#include <memory>
#include <vector>

#include "jobs/job_runner.h"
#include "training_job.h"

namespace itera::ui {

class TrainingController : public QObject {
    Q_OBJECT
public:
    /// Jobs use the workspace's run store through their own connection.
    explicit TrainingController(const Workspace& workspace, QObject* parent = nullptr);
    /// Stops a running job (which saves a checkpoint) and waits for it.
    ~TrainingController() override;

    /// Queues a job; it starts at once when nothing else trains.
    void enqueue(TrainingJob job);
    bool busy() const { return m_runner.busy(); }
    /// The run being trained, 0 when none (or while its data is prepared).
    qint64 currentRunId() const { return m_runId; }
    int queuedCount() const { return static_cast<int>(m_runner.queued().size()); }
    /// The jobs waiting to start, in order: (id, label).
    std::vector<std::pair<JobId, QString>> queuedJobs() const { return m_runner.queued(); }
    bool paused() const;
    /// False while a run of several processes trains: they step together and
    /// do not pause (stop, then resume, instead).
    bool canPause() const;

    void pause();
    void resume();
    /// Stops the current job: cancels data preparation, or ends training
    /// after the current step with a checkpoint (status `stopped`).
    void stop();
    /// Drops one job that has not started; false when it already started or is unknown.
    bool dropQueued(JobId id);
    /// Drops the jobs that have not started.
    void clearQueue();
    /// stop(), then waits (processing events) until no job runs.
    void stopAndWait();
    /// The new run of the job that ended last, when it was one (with jobFailed:
    /// the request to edit and retry).
    const std::optional<NewRunRequest>& lastRequest() const { return m_failedRequest; }

    /// A job's shared state (its pause/stop flags and its mailbox).
    struct State;

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
    void deliver(JobId id);
    void onFinished(JobId id, const QVariant& result);

    Workspace m_workspace;
    JobRunner m_runner;
    std::map<JobId, std::shared_ptr<State>> m_states;  ///< queued and running jobs
    ProgressBatch m_batch;  ///< the running job's state, repeated in each batch
    qint64 m_runId = 0;
    std::optional<NewRunRequest> m_failedRequest;
};

}  // namespace itera::ui
