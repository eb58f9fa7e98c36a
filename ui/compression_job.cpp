// The Compression tab's worker: compresses (and for mixed precision sweeps
// and plans) the checked methods one after another on a QThread, and the
// page's polling of its progress.

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QTimer>

#include <filesystem>
#include <optional>

#include "compress/measure.h"
#include "compress/mixed.h"
#include "compress/scheme.h"
#include "compression_job.h"
#include "compression_page.h"

namespace itera::ui {

void CompressionPage::compressChecked() {
    if (m_worker || m_source.isEmpty()) return;
    struct Task {
        CompressOptions options;
        std::filesystem::path out;
        std::optional<MixedTarget> mixed;
        QString method;
    };
    std::vector<Task> jobs;
    for (auto* box : m_methods) {
        if (!box->isChecked()) continue;
        CompressOptions o;
        o.scheme = parse_scheme(box->text().toStdString());
        o.group_size = m_groupSize->value();
        auto name = "best-" + box->text().toStdString();
        if (o.scheme == Scheme::Int4 || o.scheme == Scheme::Nf4)
            name += "-g" + std::to_string(o.group_size);
        jobs.push_back({o, std::filesystem::path(m_outDir.toStdString()) / (name + ".safetensors"),
                        std::nullopt, box->text()});
    }
    if (m_mixed->isChecked()) {
        CompressOptions o;
        o.group_size = m_groupSize->value();
        const auto bytes = static_cast<std::int64_t>(m_mixedTarget->value() * 1e6);
        jobs.push_back({o,
                        std::filesystem::path(m_outDir.toStdString()) /
                            ("best-mixed-" + std::to_string(bytes / 1000) + "k.safetensors"),
                        MixedTarget{bytes, std::nullopt}, QStringLiteral("mixed")});
    }
    m_jobError.clear();
    if (jobs.empty() || m_groupSize->value() % 16) {
        m_jobError = jobs.empty() ? tr("check at least one method")
                                  : tr("the group size must be a multiple of 16");
        m_phase->setText(m_jobError);
        Q_EMIT compressed();
        return;
    }
    m_job = std::make_shared<Job>();
    auto job = m_job;
    const auto source = std::filesystem::path(m_source.toStdString());
    MeasureOptions measure;
    measure.evaluate = m_evaluate->isChecked();
    measure.db = m_database.toStdString();
    measure.threads = 1;  // training may be using the other cores
    measure.cancel = &job->cancel;
    m_worker = QThread::create([job, jobs, source, measure]() mutable {
        try {
            std::filesystem::create_directories(jobs.front().out.parent_path());
            for (std::size_t i = 0; i < jobs.size(); ++i) {
                const auto& method = jobs[i].method;
                measure.progress = [&](const std::string& phase, double fraction) {
                    std::lock_guard lock(job->mutex);
                    job->phase = QStringLiteral("%1 (%2 of %3): %4")
                                     .arg(method)
                                     .arg(i + 1)
                                     .arg(jobs.size())
                                     .arg(QString::fromStdString(phase));
                    job->fraction = fraction;
                };
                MeasuredCompression r;
                if (jobs[i].mixed) {
                    SweepOptions sweep;
                    sweep.candidates = {{Scheme::Int8, jobs[i].options.group_size, false},
                                        {Scheme::Int4, jobs[i].options.group_size, false}};
                    sweep.threads = measure.threads;
                    sweep.db = measure.db;
                    sweep.cancel = measure.cancel;
                    sweep.progress = measure.progress;
                    r = compress_mixed_and_measure(source, *jobs[i].mixed, sweep, jobs[i].out,
                                                   measure);
                } else {
                    r = compress_and_measure(source, jobs[i].options, jobs[i].out, measure);
                }
                std::lock_guard lock(job->mutex);
                if (!r.store_error.empty())
                    job->error = QString::fromStdString("not stored: " + r.store_error);
                ++job->done;
            }
        } catch (const std::exception& e) {
            std::lock_guard lock(job->mutex);
            job->error = QString::fromStdString(e.what());
        }
        std::lock_guard lock(job->mutex);
        job->finished = true;
    });
    // The page owns the thread and deletes it once joined (in poll or the
    // destructor); a deleteLater on `finished` could free it before poll()
    // joins it.
    m_compress->setEnabled(false);
    m_cancel->setEnabled(true);
    m_progress->show();
    m_progress->setRange(0, 0);
    m_phase->setText(tr("starting…"));
    m_worker->start(QThread::LowPriority);
    m_pollTimer->start();
}

void CompressionPage::poll() {
    if (!m_job) return;
    QString phase, error;
    double fraction = -1;
    int done = 0;
    bool finished = false;
    {
        std::lock_guard lock(m_job->mutex);
        phase = m_job->phase;
        fraction = m_job->fraction;
        error = m_job->error;
        done = m_job->done;
        finished = m_job->finished;
    }
    if (!finished) {
        m_phase->setText(phase);
        if (fraction >= 0) {
            m_progress->setRange(0, 1000);
            m_progress->setValue(static_cast<int>(fraction * 1000));
        } else {
            m_progress->setRange(0, 0);
        }
        return;
    }
    m_pollTimer->stop();
    m_worker->wait();
    delete m_worker;
    m_worker = nullptr;
    m_job.reset();
    m_jobError = error;
    m_progress->hide();
    m_cancel->setEnabled(false);
    m_compress->setEnabled(!m_source.isEmpty());
    m_phase->setText(error.isEmpty() ? tr("%n model(s) compressed and measured", nullptr, done)
                                     : tr("%n done; stopped: %1", nullptr, done).arg(error));
    Q_EMIT compressed();
}

}  // namespace itera::ui
