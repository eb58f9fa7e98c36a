#include "training_worker.h"

#include <exception>

#include "store/run_store.h"

namespace itera::ui {

QString TrainingJob::label() const {
    if (create)
        return create->name.isEmpty() ? QString::fromStdString(create->settings.preset + " on " +
                                                               create->data.request.corpus)
                                      : create->name;
    return QObject::tr("resume run %1").arg(resumeRunId);
}

TrainingWorker::TrainingWorker(QString databasePath, std::shared_ptr<TrainingMailbox> box)
    : m_databasePath(std::move(databasePath)), m_box(std::move(box)) {}

void TrainingWorker::runJob() {
    TrainingJob job;
    {
        std::lock_guard lock(m_box->mutex);
        job = m_box->job;
        m_box->pending = {};
        m_box->pending.phase = tr("preparing data");
    }
    qint64 runId = job.create ? 0 : job.resumeRunId;
    auto box = m_box;
    try {
        RunStore store(m_databasePath.toStdString());
        CacheBuildOptions prep;
        prep.cancel = &box->cancelPreparation;
        prep.progress = [box](std::uint64_t done, std::uint64_t total) {
            std::lock_guard lock(box->mutex);
            box->pending.prepareFraction = total ? static_cast<double>(done) / total : -1;
        };
        LaunchedRun run;
        if (job.create) {
            const auto& c = *job.create;
            prep.threads = c.settings.threads;
            run =
                launch_new_run(store, c.name.toStdString(), c.settings, c.modelGiven, c.data, prep);
        } else {
            run = launch_resumed_run(store, job.resumeRunId, std::nullopt, prep);
        }
        runId = run.id;
        {
            std::lock_guard lock(box->mutex);
            box->pending.runId = runId;
            box->pending.phase = tr("training");
            box->pending.prepareFraction = -1;
        }
        Q_EMIT runCreated(runId);
        const auto result =
            train_run(store, runId, run.settings, run.ready.data, &box->control,
                      [box](const TrainProgress& p) {
                          std::lock_guard lock(box->mutex);
                          auto& b = box->pending;
                          b.points.insert(b.points.end(), p.points.begin(), p.points.end());
                          b.latest = p;
                          b.latest->points.clear();
                          if (p.kind == TrainProgress::Kind::Paused) b.phase = tr("paused");
                          if (p.kind == TrainProgress::Kind::Resumed) b.phase = tr("training");
                      });
        Q_EMIT jobEnded(runId, static_cast<int>(result.status),
                        QString::fromStdString(result.message));
    } catch (const std::exception& e) {
        // train_run marks its run failed itself; before that there may be no run.
        Q_EMIT jobEnded(runId, runId ? static_cast<int>(RunStatus::Failed) : -1,
                        QString::fromStdString(e.what()));
    }
}

}  // namespace itera::ui
