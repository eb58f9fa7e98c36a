#include "app_settings.h"

namespace itera::ui {

Workspace workspaceFromSettings(const QString& databaseOverride) {
    const auto dir = settings::dataDir.value();
    auto ws = dir.isEmpty() ? Workspace::standard() : Workspace::at(dir.toStdString());
    const auto db = databaseOverride.isEmpty() ? settings::databasePath.value() : databaseOverride;
    return ws.with_db(db.toStdString());
}

}  // namespace itera::ui
