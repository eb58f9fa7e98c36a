#pragma once
// The one way the workbench runs long work off the GUI thread: a worker
// thread, a queue of jobs run one at a time, an atomic cancel token per job,
// progress delivered to the GUI thread at most every 100 ms, and
// finished/failed signals that carry the job's id, so a consumer can never
// mistake the end of an old job for the end of the one it started last.
//
// A job is a function run on the worker thread. It reports through its
// JobContext: a phase and fraction (coalesced: only the newest is delivered),
// and anything richer through a JobMailbox the consumer drains on
// `progressed`. Its result (a QVariant) arrives with `finished`; an exception
// becomes `failed` with its message ("cancelled" when the job saw its token).

#include <QObject>
#include <QString>
#include <QTimer>
#include <QVariant>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace itera::ui {

using JobId = quint64;

/// The newest phase and fraction of a running job.
struct JobProgress {
    QString phase;
    double fraction = -1;  ///< in [0, 1]; -1 while unknown
};

/// What a running job sees: its cancel token and where to report progress.
class JobContext {
public:
    bool cancelled() const { return m_cancel->load(); }
    /// For core functions that take a `const std::atomic<bool>*` cancel flag.
    const std::atomic<bool>* cancelFlag() const { return m_cancel.get(); }
    /// Throws itera::Error("cancelled") when the job was cancelled.
    void checkCancelled() const;
    /// The newest phase wins; delivered on the next tick (every 100 ms).
    void progress(const QString& phase, double fraction = -1);

private:
    friend class JobRunner;
    struct Shared;
    JobContext(std::shared_ptr<std::atomic<bool>> cancel, std::shared_ptr<Shared> shared)
        : m_cancel(std::move(cancel)), m_shared(std::move(shared)) {}
    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::shared_ptr<Shared> m_shared;
};

/// Accumulates a job's updates between two deliveries: the worker merges into
/// it under a lock, the GUI thread takes the whole batch on `progressed`.
template <class Batch>
class JobMailbox {
public:
    /// On the worker: `merge(batch)` under the lock.
    template <class F>
    void post(F&& merge) {
        std::lock_guard lock(m_mutex);
        merge(m_batch);
    }
    /// On the GUI thread: the batch so far, leaving an empty one.
    Batch take() {
        std::lock_guard lock(m_mutex);
        return std::exchange(m_batch, Batch{});
    }

private:
    std::mutex m_mutex;
    Batch m_batch{};
};

class JobRunner : public QObject {
    Q_OBJECT
public:
    using Work = std::function<QVariant(JobContext&)>;

    /// `name` names the worker thread (for debuggers and logs).
    explicit JobRunner(const QString& name, QObject* parent = nullptr);
    /// Cancels every job and waits for the running one to return.
    ~JobRunner() override;

    /// Queues `work`; it starts at once when nothing else runs. `label`
    /// describes it in the queue.
    JobId submit(const QString& label, Work work);
    /// Cancels a queued job (it never starts) or the running one (its token
    /// is set; it ends when it next checks). False for an unknown id.
    bool cancel(JobId id);
    /// Cancels the running job and drops every queued one; returns how many
    /// were dropped (they never start, nor end).
    int cancelAll();
    /// Waits (processing events) until no job runs or is queued.
    void waitForIdle();

    bool busy() const { return m_current != 0; }
    JobId currentJob() const { return m_current; }
    /// The queued jobs that have not started, in order: (id, label).
    std::vector<std::pair<JobId, QString>> queued() const;

Q_SIGNALS:
    void started(itera::ui::JobId id);
    /// At most every 100 ms while a job runs (and once just before it ends).
    void progressed(itera::ui::JobId id, const itera::ui::JobProgress& progress);
    void finished(itera::ui::JobId id, const QVariant& result);
    void failed(itera::ui::JobId id, const QString& message);
    void queueChanged();
    void busyChanged(bool busy);

private:
    struct Job {
        JobId id = 0;
        QString label;
        Work work;
        std::shared_ptr<std::atomic<bool>> cancel;
    };
    void workerLoop();
    void onEnded(JobId id, bool ok, const QVariant& result, const QString& message);
    void tick();

    mutable std::mutex m_mutex;  ///< guards m_queue, m_stopping, m_running
    std::condition_variable m_wake;
    std::deque<Job> m_queue;
    std::shared_ptr<std::atomic<bool>> m_runningCancel;  ///< the worker's job, while it runs
    JobId m_runningId = 0;
    bool m_stopping = false;
    JobId m_next = 1;
    JobId m_current = 0;  ///< GUI thread's view: the job between started and its end
    std::shared_ptr<JobContext::Shared> m_shared;
    QTimer m_tick;
    std::thread m_thread;
};

}  // namespace itera::ui

Q_DECLARE_METATYPE(itera::ui::JobProgress)
