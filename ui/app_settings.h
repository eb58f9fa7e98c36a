#pragma once
// The workbench's persisted settings (QSettings), typed: each one is a key and
// a default, read and written through Setting<T>. Paths left empty mean the
// core's defaults (the user data directory and its runs.sqlite).

#include <QSettings>
#include <QString>
#include <QVariant>

#include "util/workspace.h"

namespace itera::ui {

template <class T>
struct Setting {
    const char* key;
    T fallback;

    T value() const {
        const auto v = QSettings().value(QLatin1String(key));
        return v.isValid() && v.canConvert<T>() ? v.value<T>() : fallback;
    }
    void set(const T& v) const { QSettings().setValue(QLatin1String(key), QVariant::fromValue(v)); }
};

namespace settings {
/// Data directory (corpora, datasets, runs); empty = the standard one
/// ($ITERA_DATA_DIR, else ~/.local/share/itera-workbench).
inline const Setting<QString> dataDir{"storage/dataDir", {}};
/// Run store database; empty = <data directory>/runs.sqlite.
inline const Setting<QString> databasePath{"storage/databasePath", {}};
/// Training threads; 0 = all cores.
inline const Setting<int> threads{"training/threads", 0};
/// What the new-run dialog offers first: the preset and threads last started with
/// (threads -1: the training setting above).
inline const Setting<QString> newRunPreset{"newRun/preset", QStringLiteral("mini")};
inline const Setting<int> newRunThreads{"newRun/threads", -1};
/// Plots: x axis (0 step, 1 tokens, 2 wall time), log scale, EMA smoothing in [0, 0.999].
inline const Setting<int> plotXAxis{"plots/xAxis", 0};
inline const Setting<bool> plotLogScale{"plots/logScale", false};
inline const Setting<double> plotSmoothing{"plots/smoothing", 0.6};
/// Charts share their x range (pan and zoom) and a crosshair.
inline const Setting<bool> plotLinked{"plots/linked", true};
inline const Setting<QByteArray> windowGeometry{"window/geometry", {}};
inline const Setting<QByteArray> windowState{"window/state", {}};
}  // namespace settings

/// The workspace the settings name: their data directory (else the standard
/// one) and their database (else <data directory>/runs.sqlite); a non-empty
/// `databaseOverride` (the --database option) wins over the setting.
Workspace workspaceFromSettings(const QString& databaseOverride = {});

}  // namespace itera::ui
