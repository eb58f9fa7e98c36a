#include "build_info.h"

#include <sqlite3.h>
#include <torch/version.h>

#include <QtGlobal>

namespace itera::ui {

QString buildInfoLine() {
    return QStringLiteral("Itera-Lite Workbench %1 · Qt %2 · LibTorch %3 · SQLite %4")
        .arg(QStringLiteral(ITERA_VERSION), QString::fromLatin1(qVersion()),
             QStringLiteral(TORCH_VERSION), QString::fromLatin1(sqlite3_libversion()));
}

}  // namespace itera::ui
