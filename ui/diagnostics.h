#pragma once
// The text of Help → Copy diagnostics: what a bug report needs (versions,
// system, settings, the run store, the newest log lines), nothing private
// beyond paths.

#include <QString>

#include "util/workspace.h"

namespace itera {
class RunStore;
}

namespace itera::ui {

/// `store` may be null (a store that could not be opened).
QString diagnosticsText(RunStore* store, const Workspace& workspace);

}  // namespace itera::ui
