#include "duration_text.h"

#include <QLocale>
#include <QObject>

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

QString countText(double v, const QLocale& locale) {
    const double a = std::abs(v);
    if (a >= 1e9) return locale.toString(v / 1e9, 'g', 3) + QStringLiteral("G");
    if (a >= 1e6) return locale.toString(v / 1e6, 'g', 3) + QStringLiteral("M");
    if (a >= 1e3) return locale.toString(v / 1e3, 'g', 3) + QStringLiteral("k");
    return locale.toString(v, 'g', 4);
}

QString agoText(double s) {
    if (!(s >= 0) || s >= 7 * 86400) return {};
    const auto t = static_cast<long long>(s);
    if (t < 60) return QObject::tr("just now");
    if (t < 3600) return QObject::tr("%1 min ago").arg(t / 60);
    if (t < 86400) return QObject::tr("%1 h ago").arg(t / 3600);
    return QObject::tr("%n day(s) ago", nullptr, static_cast<int>(t / 86400));
}

QString localTimeText(const std::string& iso, const QDateTime& now) {
    const auto stored = QString::fromStdString(iso);
    auto t = QDateTime::fromString(stored, Qt::ISODate);
    if (!t.isValid()) return stored;
    if (t.timeSpec() == Qt::LocalTime) t.setTimeSpec(Qt::UTC);  // the store writes UTC
    const auto local = QLocale().toString(t.toLocalTime(), QLocale::ShortFormat);
    const auto ago = agoText(static_cast<double>(t.secsTo(now)));
    return ago.isEmpty() ? local : QStringLiteral("%1 · %2").arg(local, ago);
}

}  // namespace itera::ui
