#include "user_guide.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace itera::ui {

QString userGuidePath() {
    const QDir bin(QCoreApplication::applicationDirPath());
    const QStringList candidates = {
        bin.filePath(QStringLiteral("../share/doc/itera-workbench/docs/workbench.md")),
        QStringLiteral(ITERA_SOURCE_DIR "/docs/workbench.md"),
    };
    for (const auto& c : candidates)
        if (QFileInfo(c).isFile()) return QFileInfo(c).canonicalFilePath();
    return {};
}

}  // namespace itera::ui
