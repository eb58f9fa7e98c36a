// The Compression tab's jobs: each checked method (and a mixed-precision
// plan) is one job of the page's JobRunner, run one after another.

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>

#include <filesystem>
#include <optional>

#include "compression_page.h"
#include "elided_label.h"
#include "format/scheme.h"
#include "workflows/compression.h"

namespace itera::ui {

void CompressionPage::compressChecked() {
    if (compressing() || m_source.isEmpty()) return;
    struct Task {
        CompressOptions options;
        std::filesystem::path out;
        std::optional<MixedTarget> mixed;
        QString method;
    };
    std::vector<Task> tasks;
    for (auto* box : m_methods) {
        if (!box->isChecked()) continue;
        CompressOptions o;
        o.scheme = parse_scheme(box->text().toStdString());
        o.group_size = m_groupSize->value();
        auto name = "best-" + box->text().toStdString();
        if (o.scheme == Scheme::Int4 || o.scheme == Scheme::Nf4)
            name += "-g" + std::to_string(o.group_size);
        tasks.push_back({o, std::filesystem::path(m_outDir.toStdString()) / (name + ".safetensors"),
                         std::nullopt, box->text()});
    }
    if (m_mixed->isChecked()) {
        CompressOptions o;
        o.group_size = m_groupSize->value();
        const auto bytes = static_cast<std::int64_t>(m_mixedTarget->value() * 1e6);
        tasks.push_back({o,
                         std::filesystem::path(m_outDir.toStdString()) /
                             ("best-mixed-" + std::to_string(bytes / 1000) + "k.safetensors"),
                         MixedTarget{bytes, std::nullopt, std::nullopt}, QStringLiteral("mixed")});
    }
    m_jobError.clear();
    if (tasks.empty() || m_groupSize->value() % 16) {
        m_jobError = tasks.empty() ? tr("check at least one method")
                                   : tr("the group size must be a multiple of 16");
        m_phase->setText(m_jobError);
        Q_EMIT compressed();
        return;
    }
    const auto source = std::filesystem::path(m_source.toStdString());
    MeasureRequest measure;
    measure.evaluate = m_evaluate->isChecked();
    measure.threads = 1;  // training may be using the other cores
    m_total = static_cast<int>(tasks.size());
    m_done = 0;
    m_pending = m_total;
    for (int i = 0; i < m_total; ++i) {
        const auto& task = tasks[static_cast<std::size_t>(i)];
        const auto label = tr("%1 (%2 of %3)").arg(task.method).arg(i + 1).arg(m_total);
        m_runner.submit(
            label, [task, source, measure, label, ws = m_workspace](JobContext& context) mutable {
                std::filesystem::create_directories(task.out.parent_path());
                measure.cancel = context.cancelFlag();
                measure.progress = [&](const std::string& phase, double fraction) {
                    context.progress(label + QStringLiteral(": ") + QString::fromStdString(phase),
                                     fraction);
                };
                MeasuredCompression r;
                if (task.mixed) {
                    SweepSettings sweep;
                    sweep.candidates = {{Scheme::Int8, task.options.group_size, false},
                                        {Scheme::Int4, task.options.group_size, false}};
                    sweep.threads = measure.threads;
                    sweep.cancel = measure.cancel;
                    sweep.progress = measure.progress;
                    r = compress_mixed_and_measure(ws, source, *task.mixed, sweep, std::nullopt,
                                                   task.out, measure);
                } else {
                    r = compress_and_measure(ws, source, task.options, task.out, measure);
                }
                // Measured but not kept: say so (the batch goes on).
                return QVariant(r.store_error.empty()
                                    ? QString()
                                    : QString::fromStdString("not stored: " + r.store_error));
            });
    }
    m_compress->setEnabled(false);
    m_cancel->setEnabled(true);
    m_progress->show();
    m_progress->setRange(0, 0);
    m_phase->setText(tr("starting…"));
}

void CompressionPage::onJobEnded(const QString& error) {
    if (!error.isEmpty() && m_jobError.isEmpty()) m_jobError = error;
    if (--m_pending > 0) return;
    m_progress->hide();
    m_cancel->setEnabled(false);
    m_compress->setEnabled(!m_source.isEmpty());
    m_phase->setText(m_jobError.isEmpty()
                         ? tr("%n model(s) compressed and measured", nullptr, m_done)
                         : tr("%n done; stopped: %1", nullptr, m_done).arg(m_jobError));
    Q_EMIT compressed();
}

}  // namespace itera::ui
