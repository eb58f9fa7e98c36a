#include "diagnostics.h"

#include <QStringList>
#include <QSysInfo>

#include "app_settings.h"
#include "build_info.h"
#include "data/builtin.h"
#include "store/run_store.h"
#include "util/build_info.h"
#include "util/log.h"
#include "util/system_info.h"

namespace itera::ui {

QString diagnosticsText(RunStore* store, const Workspace& workspace) {
    QStringList lines;
    auto add = [&](const QString& key, const QString& value) {
        lines << QStringLiteral("%1: %2").arg(key, value);
    };
    lines << buildInfoLine();
    add(QStringLiteral("revision"), QString::fromStdString(git_revision()));
    add(QStringLiteral("system"), QSysInfo::prettyProductName() + QStringLiteral(" · kernel ") +
                                      QSysInfo::kernelVersion() + QStringLiteral(" · ") +
                                      QSysInfo::currentCpuArchitecture());
    add(QStringLiteral("cpu"), QString::fromStdString(cpu_model()) +
                                   QStringLiteral(" · %1 logical cores").arg(logical_cores()));
    add(QStringLiteral("blas"), QString::fromStdString(blas_library()));
    const int threads = settings::threads.value();
    add(QStringLiteral("training threads"),
        threads > 0 ? QString::number(threads) : QStringLiteral("all cores"));
    add(QStringLiteral("data directory"), QString::fromStdString(workspace.data_dir.string()));
    if (store) {
        try {
            add(QStringLiteral("run store"),
                QStringLiteral("%1 · schema %2 · %3 runs")
                    .arg(QString::fromStdString(store->path().string()))
                    .arg(store->schema_version())
                    .arg(store->list_runs().size()));
        } catch (const std::exception& e) {
            add(QStringLiteral("run store"), QString::fromStdString(e.what()));
        }
    } else {
        add(QStringLiteral("run store"), QStringLiteral("not open"));
    }
    const auto log = log_path();
    add(QStringLiteral("log"),
        log.empty() ? QStringLiteral("none") : QString::fromStdString(log.string()));
    const auto tail = log_tail(40);
    if (!tail.empty()) {
        lines << QStringLiteral("--- the last %1 log lines ---").arg(tail.size());
        for (const auto& l : tail) lines << QString::fromStdString(l);
    }
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

}  // namespace itera::ui
