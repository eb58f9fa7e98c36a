#include "duration_text.h"

#include <cmath>

namespace itera::ui {

QString durationText(double s) {
    if (!(s > 0)) return {};
    const auto t = static_cast<long long>(std::llround(s));
    if (t < 60) return QStringLiteral("%1 s").arg(t);
    if (t < 3600)
        return QStringLiteral("%1 min %2 s").arg(t / 60).arg(t % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 h %2 min").arg(t / 3600).arg(t / 60 % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace itera::ui
