#include "jobs/job_runner.h"

#include <QCoreApplication>
#include <QEventLoop>

#include <pthread.h>

#include <exception>

#include "util/error.h"

namespace itera::ui {

struct JobContext::Shared {
    std::mutex mutex;
    JobProgress progress;
};

void JobContext::checkCancelled() const {
    if (cancelled()) throw Error("cancelled");
}

void JobContext::progress(const QString& phase, double fraction) {
    std::lock_guard lock(m_shared->mutex);
    m_shared->progress = {phase, fraction};
}

JobRunner::JobRunner(const QString& name, QObject* parent)
    : QObject(parent), m_shared(std::make_shared<JobContext::Shared>()) {
    qRegisterMetaType<itera::ui::JobProgress>();
    qRegisterMetaType<itera::ui::JobId>("itera::ui::JobId");
    m_tick.setInterval(100);
    connect(&m_tick, &QTimer::timeout, this, &JobRunner::tick);
    m_thread = std::thread([this] { workerLoop(); });
    pthread_setname_np(m_thread.native_handle(), name.left(15).toLocal8Bit().constData());
}

JobRunner::~JobRunner() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_queue.clear();
        if (m_runningCancel) *m_runningCancel = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

JobId JobRunner::submit(const QString& label, Work work) {
    Job job;
    {
        std::lock_guard lock(m_mutex);
        job.id = m_next++;
        job.label = label;
        job.work = std::move(work);
        job.cancel = std::make_shared<std::atomic<bool>>(false);
        m_queue.push_back(job);
    }
    m_wake.notify_all();
    Q_EMIT queueChanged();
    return job.id;
}

bool JobRunner::cancel(JobId id) {
    bool found = false, dequeued = false;
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_queue.begin(); it != m_queue.end(); ++it)
            if (it->id == id) {
                m_queue.erase(it);
                found = dequeued = true;
                break;
            }
        if (!found && id == m_runningId && m_runningCancel) {
            *m_runningCancel = true;
            found = true;
        }
    }
    if (dequeued) Q_EMIT queueChanged();
    return found;
}

int JobRunner::cancelAll() {
    int dropped = 0;
    {
        std::lock_guard lock(m_mutex);
        dropped = static_cast<int>(m_queue.size());
        m_queue.clear();
        if (m_runningCancel) *m_runningCancel = true;
    }
    if (dropped) Q_EMIT queueChanged();
    return dropped;
}

void JobRunner::waitForIdle() {
    auto idle = [this] {
        std::lock_guard lock(m_mutex);
        return m_queue.empty() && !m_runningCancel && m_current == 0;
    };
    while (!idle()) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 20);
}

std::vector<std::pair<JobId, QString>> JobRunner::queued() const {
    std::lock_guard lock(m_mutex);
    std::vector<std::pair<JobId, QString>> out;
    for (const auto& j : m_queue) out.emplace_back(j.id, j.label);
    return out;
}

void JobRunner::workerLoop() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_stopping) return;
            job = std::move(m_queue.front());
            m_queue.pop_front();
            m_runningCancel = job.cancel;
            m_runningId = job.id;
        }
        {
            std::lock_guard lock(m_shared->mutex);
            m_shared->progress = {};
        }
        const JobId id = job.id;
        QMetaObject::invokeMethod(
            this,
            [this, id] {
                m_current = id;
                m_tick.start();
                Q_EMIT queueChanged();
                Q_EMIT started(id);
                Q_EMIT busyChanged(true);
            },
            Qt::QueuedConnection);
        JobContext context(job.cancel, m_shared);
        bool ok = true;
        QVariant result;
        QString message;
        try {
            result = job.work(context);
        } catch (const std::exception& e) {
            ok = false;
            message = QString::fromStdString(e.what());
        } catch (...) {
            ok = false;
            message = tr("an unknown error");
        }
        job.work = nullptr;  // its captures die on this thread, not on the GUI's
        {
            std::lock_guard lock(m_mutex);
            m_runningCancel.reset();
            m_runningId = 0;
        }
        QMetaObject::invokeMethod(
            this, [this, id, ok, result, message] { onEnded(id, ok, result, message); },
            Qt::QueuedConnection);
    }
}

void JobRunner::tick() {
    if (m_current == 0) return;
    JobProgress p;
    {
        std::lock_guard lock(m_shared->mutex);
        p = m_shared->progress;
    }
    Q_EMIT progressed(m_current, p);
}

void JobRunner::onEnded(JobId id, bool ok, const QVariant& result, const QString& message) {
    tick();  // the last updates before the end
    m_tick.stop();
    m_current = 0;
    if (ok)
        Q_EMIT finished(id, result);
    else
        Q_EMIT failed(id, message);
    Q_EMIT busyChanged(false);
}

}  // namespace itera::ui
