#include "training_controller.h"

#include <QCoreApplication>
#include <QEventLoop>

#include <utility>

#include "training_worker.h"

namespace itera::ui {

TrainingController::TrainingController(const QString& databasePath, QObject* parent)
    : QObject(parent), m_box(std::make_shared<TrainingMailbox>()) {
    qRegisterMetaType<itera::ui::ProgressBatch>();
    m_worker = new TrainingWorker(databasePath, m_box);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &TrainingWorker::runCreated, this, &TrainingController::onRunCreated);
    connect(m_worker, &TrainingWorker::jobEnded, this, &TrainingController::onJobEnded);
    m_thread.setObjectName(QStringLiteral("training"));
    m_thread.start(QThread::LowPriority);  // the GUI thread wins the cores when it needs them
    m_deliveryTimer.setInterval(100);
    connect(&m_deliveryTimer, &QTimer::timeout, this, &TrainingController::deliver);
}

TrainingController::~TrainingController() {
    m_queue.clear();
    m_box->control.resume();
    m_box->control.stop();
    m_box->cancelPreparation = true;
    m_thread.quit();
    m_thread.wait();
}

void TrainingController::enqueue(TrainingJob job) {
    m_queue.push_back(std::move(job));
    Q_EMIT queueChanged(queuedCount());
    if (!m_busy) startNext();
}

bool TrainingController::paused() const {
    return m_box->control.paused();
}

void TrainingController::pause() {
    if (m_busy) m_box->control.pause();
}

void TrainingController::resume() {
    m_box->control.resume();
}

void TrainingController::stop() {
    if (!m_busy) return;
    m_box->cancelPreparation = true;
    m_box->control.resume();  // a paused run must wake up to stop
    m_box->control.stop();
}

void TrainingController::clearQueue() {
    m_queue.clear();
    Q_EMIT queueChanged(0);
}

void TrainingController::stopAndWait() {
    clearQueue();
    stop();
    while (m_busy) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
}

void TrainingController::startNext() {
    if (m_queue.empty()) return;
    {
        std::lock_guard lock(m_box->mutex);
        m_box->job = std::move(m_queue.front());
    }
    m_queue.pop_front();
    m_box->control.reset();
    m_box->cancelPreparation = false;
    m_busy = true;
    m_runId = 0;
    QMetaObject::invokeMethod(m_worker, &TrainingWorker::runJob, Qt::QueuedConnection);
    m_deliveryTimer.start();
    Q_EMIT queueChanged(queuedCount());
    Q_EMIT busyChanged(true);
}

void TrainingController::deliver() {
    ProgressBatch batch;
    {
        // The state (run, phase, newest report) is delivered every time; the
        // points once.
        std::lock_guard lock(m_box->mutex);
        const auto& p = m_box->pending;
        batch.runId = p.runId;
        batch.phase = p.phase;
        batch.prepareFraction = p.prepareFraction;
        batch.latest = p.latest;
        batch.points = std::exchange(m_box->pending.points, {});
    }
    Q_EMIT progressed(batch);
}

void TrainingController::onRunCreated(qint64 runId) {
    m_runId = runId;
    Q_EMIT runStarted(runId);
}

void TrainingController::onJobEnded(qint64 runId, int status, const QString& message) {
    deliver();  // the last points before the end
    m_deliveryTimer.stop();
    m_busy = false;
    m_runId = 0;
    if (status < 0)
        Q_EMIT jobFailed(message);
    else
        Q_EMIT runEnded(runId, status, message);
    Q_EMIT busyChanged(false);
    startNext();
}

}  // namespace itera::ui
