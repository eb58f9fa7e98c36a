#pragma once

#include <QDateTime>
#include <QLocale>
#include <QString>

#include <string>

namespace itera::ui {

/// "42 s", "3 min 07 s", "1 h 05 min"; empty for 0 or less.
QString durationText(double seconds);

/// A count as people say it: 500, 2.5k, 1.2M, 3G (axes, parameter counts).
QString countText(double v, const QLocale& locale = QLocale());

/// "just now", "5 min ago", "3 h ago", "2 days ago"; empty for a week or more
/// (and for the future).
QString agoText(double seconds);

/// A stored UTC ISO-8601 time in local time, with how long ago when within a
/// week ("06/12/2026 09:14 · 5 min ago" in the locale's short format); the text
/// as stored when it does not parse.
QString localTimeText(const std::string& iso,
                      const QDateTime& now = QDateTime::currentDateTimeUtc());

}  // namespace itera::ui
