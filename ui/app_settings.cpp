#include "app_settings.h"

#include "store/run_store.h"

namespace itera::ui {

QString applyStorageSettings() {
    const auto dir = settings::dataDir.value();
    if (!dir.isEmpty()) qputenv("ITERA_DATA_DIR", dir.toLocal8Bit());
    const auto db = settings::databasePath.value();
    return db.isEmpty() ? QString::fromStdString(RunStore::default_path().string()) : db;
}

}  // namespace itera::ui
