// The main window starts offscreen and shows the build's versions.

#include <gtest/gtest.h>

#include <QApplication>
#include <QLabel>
#include <QStatusBar>

#include "main_window.h"

TEST(MainWindow, ShowsWelcomeAndVersions) {
    itera::ui::MainWindow w;
    w.show();
    auto* welcome = w.findChild<QLabel*>(QStringLiteral("welcome"));
    ASSERT_NE(welcome, nullptr);
    EXPECT_TRUE(welcome->text().contains(QStringLiteral("Itera-Lite Workbench")));
    const auto status = w.statusBar()->currentMessage();
    EXPECT_TRUE(status.contains(QStringLiteral("LibTorch"))) << status.toStdString();
    EXPECT_TRUE(status.contains(QStringLiteral("SQLite"))) << status.toStdString();
}

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
