#pragma once
// QCustomPlot's header uses Qt's `signals` and `foreach` keywords, which this
// project turns off (QT_NO_KEYWORDS, set in ui/CMakeLists.txt): they are defined
// for that header alone.

#define signals Q_SIGNALS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef foreach
