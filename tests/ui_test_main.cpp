// The UI tests' entry point: a QApplication (offscreen under ctest), settings
// in Qt's test location, and a throw-away data directory for corpora,
// datasets and run stores, so no test touches the user's files.

#include <gtest/gtest.h>

#include <QApplication>
#include <QStandardPaths>

#include <cstdlib>

#include "temp_dir.h"

int main(int argc, char** argv) {
    setenv("QT_QPA_PLATFORM", "offscreen", 0);  // also for test discovery, which has no display
    QStandardPaths::setTestModeEnabled(true);
    itera::testing::TempDir data;
    setenv("ITERA_DATA_DIR", data.path().c_str(), 1);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("itera-lite-tests"));
    QApplication::setApplicationName(QStringLiteral("ui_tests"));
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
