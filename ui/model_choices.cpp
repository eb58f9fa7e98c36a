#include "model_choices.h"

#include <QCoreApplication>

#include <algorithm>
#include <filesystem>

namespace itera::ui {
namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("ModelChoices", text);
}

bool offered(const QList<ModelChoice>& choices, const QString& path) {
    return std::any_of(choices.begin(), choices.end(),
                       [&](const ModelChoice& m) { return m.path == path; });
}

}  // namespace

QList<ModelChoice> storedModelChoices(RunStore& store) {
    QList<ModelChoice> out;
    for (const auto& run : store.list_runs()) {
        const auto name =
            QStringLiteral("#%1 %2").arg(run.id).arg(QString::fromStdString(run.name));
        const auto best = store.run_dir(run.id) / "best.safetensors";
        if (std::filesystem::exists(best))
            out.push_back(
                {tr("%1 · best").arg(name), QString::fromStdString(best.string()), run.id});
        const auto checkpoints = store.checkpoints(run.id);
        for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it)
            if (it->kind == "latest" && std::filesystem::exists(it->path)) {
                out.push_back({tr("%1 · step %2").arg(name).arg(it->step),
                               QString::fromStdString(it->path), run.id});
                break;
            }
    }
    for (const auto& c : store.compressions()) {
        if (!std::filesystem::exists(c.path)) continue;
        const auto file = QString::fromStdString(std::filesystem::path(c.path).filename().string());
        const auto run = c.run_id ? QStringLiteral("#%1 · ").arg(*c.run_id) : QString();
        out.push_back({QStringLiteral("%1%2 (%3)").arg(run, QString::fromStdString(c.method), file),
                       QString::fromStdString(c.path), c.run_id.value_or(0)});
    }
    return out;
}

std::pair<QString, QString> defaultModelPair(RunStore& store, qint64 runId,
                                             const QList<ModelChoice>& choices) {
    const auto best = QString::fromStdString((store.run_dir(runId) / "best.safetensors").string());
    if (!offered(choices, best)) return {};
    QString right;
    for (const auto& c : store.compressions(runId)) {
        const auto path = QString::fromStdString(c.path);
        // Made from the run's best model (a store moved with its folder keeps the
        // old absolute path: the file's name says as much).
        const bool fromBest = QString::fromStdString(c.source_path) == best ||
                              std::filesystem::path(c.source_path).filename() == "best.safetensors";
        if (!fromBest || !offered(choices, path)) continue;
        if (right.isEmpty() || c.method == "f16") right = path;
    }
    return {best, right.isEmpty() ? best : right};
}

}  // namespace itera::ui
