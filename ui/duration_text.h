#pragma once

#include <QString>

namespace itera::ui {

/// "42 s", "3 min 07 s", "1 h 05 min"; empty for 0 or less.
QString durationText(double seconds);

}  // namespace itera::ui
