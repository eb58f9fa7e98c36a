#pragma once

#include <QString>

namespace itera::ui {

/// One line naming the versions of the workbench, Qt, LibTorch and SQLite.
QString buildInfoLine();

}  // namespace itera::ui
