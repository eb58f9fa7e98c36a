#include "training_controller.h"

#include <exception>
#include <optional>
#include <utility>

#include "store/run_store.h"
#include "train/gloo_group.h"
#include "workflows/distributed_run.h"
#include "workflows/store_recorder.h"

namespace itera::ui {

QString TrainingJob::label() const {
    if (create)
        return create->name.isEmpty() ? QString::fromStdString(create->settings.preset + " on " +
                                                               create->data.request.corpus)
                                      : create->name;
    return QObject::tr("resume run %1").arg(resumeRunId);
}

/// What a training job reports between two deliveries.
struct TrainingUpdates {
    qint64 runId = 0;  ///< set once the run record exists
    std::vector<MetricPoint> points;
    std::optional<TrainProgress> latest;  ///< without its points
    std::optional<QString> phase;
    std::optional<double> prepareFraction;
};

/// How a job ended: its run (0 when it had none) and the run's status, or -1
/// when it failed before it had a run.
struct TrainingOutcome {
    qint64 runId = 0;
    int status = -1;
    QString message;
};

struct TrainingController::State {
    TrainControl control;
    JobMailbox<TrainingUpdates> box;
    std::optional<NewRunRequest> create;  ///< the job's new run, kept to offer a retry
};

}  // namespace itera::ui

Q_DECLARE_METATYPE(itera::ui::TrainingOutcome)

namespace itera::ui {
namespace {

TrainingOutcome runTrainingJob(const Workspace& ws, const TrainingJob& job,
                               TrainingController::State& state, JobContext& context) {
    auto& box = state.box;
    box.post([](TrainingUpdates& u) { u.phase = QObject::tr("preparing data"); });
    qint64 runId = job.create ? 0 : job.resumeRunId;
    try {
        RunStore store(ws.db_path);
        CacheBuildOptions prep;
        prep.cancel = context.cancelFlag();
        prep.progress = [&box](std::uint64_t done, std::uint64_t total) {
            box.post([&](TrainingUpdates& u) {
                u.prepareFraction = total ? static_cast<double>(done) / total : -1;
            });
        };
        // Several processes (a new run only; a resumed one computes the same in one):
        // this job is rank 0 and starts the others as `itera train` processes.
        const int processes = job.create ? job.create->processes : 1;
        std::unique_ptr<GlooGroup> group;
        LocalRanks ranks;
        LaunchedRun run;
        try {
            if (job.create) {
                auto c = *job.create;
                if (processes > 1) {
                    c.settings.threads = threads_per_process(c.settings.threads, processes);
                    DistSettings dist;
                    dist.port = 0;
                    dist.world_size = processes;
                    group = std::make_unique<GlooGroup>(dist);
                    ranks.set_environment({"ITERA_DATA_DIR=" + ws.data_dir.string()});
                    ranks.start(itera_executable(), processes, group->port(),
                                {"train", "--quiet", "--threads",
                                 std::to_string(c.settings.threads), "--db", ws.db_path.string()});
                    group->set_failure_hint([&ranks] { return ranks.ended_rank(); });
                }
                prep.threads = c.settings.threads;
                run = launch_new_run(ws, store, c.name.toStdString(), c.settings, c.modelGiven,
                                     c.data, prep, c.variant);
            } else {
                run = launch_resumed_run(ws, store, job.resumeRunId, std::nullopt, prep);
            }
            if (group) {
                publish_run(*group, run.id, run.settings, run.spec,
                            run.ready.data.tokenizer->fingerprint());
                box.post([&](TrainingUpdates& u) {
                    u.phase = QObject::tr("waiting for %1 processes").arg(processes);
                });
                group->join();
            }
        } catch (const std::exception& e) {
            if (group) publish_failure(*group, e.what());
            throw;
        }
        runId = run.id;
        box.post([&](TrainingUpdates& u) {
            u.runId = runId;
            u.phase = QObject::tr("training");
            u.prepareFraction = -1;
        });
        TrainResult result;
        try {
            result = train_stored_run(
                store, runId, run.settings, run.ready.data, &state.control,
                [&box](const TrainProgress& p) {
                    box.post([&](TrainingUpdates& u) {
                        u.points.insert(u.points.end(), p.points.begin(), p.points.end());
                        u.latest = p;
                        u.latest->points.clear();
                        if (p.kind == TrainProgress::Kind::Paused) u.phase = QObject::tr("paused");
                        if (p.kind == TrainProgress::Kind::Resumed)
                            u.phase = QObject::tr("training");
                    });
                },
                group.get());
        } catch (const CollectiveError& e) {  // recorded `interrupted` by the trainer
            ranks.wait(2);
            return {runId, static_cast<int>(RunStatus::Interrupted),
                    QString::fromStdString(e.what())};
        }
        ranks.wait(60);
        return {runId, static_cast<int>(result.status), QString::fromStdString(result.message)};
    } catch (const std::exception& e) {
        // The trainer marks its run failed itself; before that there may be no run.
        return {runId, runId ? static_cast<int>(RunStatus::Failed) : -1,
                QString::fromStdString(e.what())};
    }
}

}  // namespace

TrainingController::TrainingController(const Workspace& workspace, QObject* parent)
    : QObject(parent), m_workspace(workspace), m_runner(QStringLiteral("training")) {
    qRegisterMetaType<itera::ui::ProgressBatch>();
    qRegisterMetaType<itera::ui::TrainingOutcome>();
    connect(&m_runner, &JobRunner::progressed, this,
            [this](JobId id, const JobProgress&) { deliver(id); });
    connect(&m_runner, &JobRunner::finished, this, &TrainingController::onFinished);
    connect(&m_runner, &JobRunner::failed, this, [this](JobId id, const QString& message) {
        onFinished(id, QVariant::fromValue(TrainingOutcome{0, -1, message}));
    });
    connect(&m_runner, &JobRunner::started, this, [this](JobId) {
        m_batch = {};
        m_runId = 0;
    });
    connect(&m_runner, &JobRunner::busyChanged, this, &TrainingController::busyChanged);
    connect(&m_runner, &JobRunner::queueChanged, this,
            [this] { Q_EMIT queueChanged(queuedCount()); });
}

TrainingController::~TrainingController() {
    m_runner.cancelAll();
    for (auto& [id, state] : m_states) {
        state->control.resume();
        state->control.stop();
    }
}

void TrainingController::enqueue(TrainingJob job) {
    auto state = std::make_shared<State>();
    state->create = job.create;
    const auto label = job.label();
    const auto id = m_runner.submit(
        label, [ws = m_workspace, job = std::move(job), state](JobContext& context) {
            return QVariant::fromValue(runTrainingJob(ws, job, *state, context));
        });
    m_states[id] = state;
}

bool TrainingController::paused() const {
    const auto it = m_states.find(m_runner.currentJob());
    return it != m_states.end() && it->second->control.paused();
}

bool TrainingController::canPause() const {
    const auto it = m_states.find(m_runner.currentJob());
    return it == m_states.end() || !it->second->create || it->second->create->processes <= 1;
}

void TrainingController::pause() {
    const auto it = m_states.find(m_runner.currentJob());
    if (it != m_states.end()) it->second->control.pause();
}

void TrainingController::resume() {
    const auto it = m_states.find(m_runner.currentJob());
    if (it != m_states.end()) it->second->control.resume();
}

void TrainingController::stop() {
    const auto id = m_runner.currentJob();
    const auto it = m_states.find(id);
    if (it == m_states.end()) return;
    it->second->control.resume();  // a paused run must wake up to stop
    it->second->control.stop();
    m_runner.cancel(id);  // and data preparation stops at its next check
}

bool TrainingController::dropQueued(JobId id) {
    if (id == m_runner.currentJob() || !m_runner.cancel(id)) return false;
    m_states.erase(id);
    return true;
}

void TrainingController::clearQueue() {
    for (const auto& [id, label] : m_runner.queued()) dropQueued(id);
}

void TrainingController::stopAndWait() {
    clearQueue();
    stop();
    m_runner.waitForIdle();
}

void TrainingController::deliver(JobId id) {
    const auto it = m_states.find(id);
    if (it == m_states.end()) return;
    auto fresh = it->second->box.take();
    if (fresh.phase) m_batch.phase = *fresh.phase;
    if (fresh.prepareFraction) m_batch.prepareFraction = *fresh.prepareFraction;
    if (fresh.latest) m_batch.latest = std::move(fresh.latest);
    m_batch.points = std::move(fresh.points);
    if (fresh.runId && fresh.runId != m_runId) {
        m_runId = fresh.runId;
        m_batch.runId = fresh.runId;
        Q_EMIT runStarted(m_runId);
    }
    Q_EMIT progressed(m_batch);
}

void TrainingController::onFinished(JobId id, const QVariant& result) {
    const auto it = m_states.find(id);
    m_failedRequest = it != m_states.end() ? it->second->create : std::nullopt;
    if (it != m_states.end()) m_states.erase(it);
    const auto outcome = result.value<TrainingOutcome>();
    m_runId = 0;
    if (outcome.status < 0)
        Q_EMIT jobFailed(outcome.message);
    else
        Q_EMIT runEnded(outcome.runId, outcome.status, outcome.message);
}

}  // namespace itera::ui
