#pragma once
// Where the user guide (docs/workbench.md) is: installed beside the program's
// documentation, or in the source tree it was built from.

#include <QString>

namespace itera::ui {

/// The guide's path, empty when neither copy exists.
QString userGuidePath();

}  // namespace itera::ui
