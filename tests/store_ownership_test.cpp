// The run store's guarantees under faults and sharing: each (run, metric,
// step) stored once whatever wrote it (and a migration that removes earlier
// duplicates, keeping the last), run folders owned by their store and run —
// never adopted or deleted by another — and legacy folders claimed once.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "error_of.h"
#include "store/run_store.h"
#include "store/schema.h"
#include "temp_dir.h"

namespace itera {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

NewRun named(const std::string& name) {
    NewRun r;
    r.name = name;
    r.config_json = "{}";
    return r;
}

// A database as a build of schema `version` left it.
void make_old_store(const fs::path& path, int version, const std::string& extra_sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    for (int i = 0; i < version; ++i)
        ASSERT_EQ(sqlite3_exec(db, schema::migrations()[i], nullptr, nullptr, nullptr), SQLITE_OK)
            << "migration " << i + 1;
    char* err = nullptr;
    const auto sql = extra_sql + "; PRAGMA user_version = " + std::to_string(version);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
}

TEST(RunStoreMetrics, EachRunMetricAndStepIsStoredOnce) {
    testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto id = store.create_run(named("a"));
    store.append_metrics(id, {{0, 0, 0, "val_loss", 5.0}, {1, 10, 1, "train_loss", 4.0}});
    // A resumed attempt writes the same steps again: the new values replace the old.
    store.append_metrics(id, {{0, 0, 0.5, "val_loss", 5.5}, {1, 10, 1.5, "train_loss", 4.5}});
    const auto all = store.metrics(id);
    ASSERT_EQ(all.size(), 2u);
    for (const auto& p : all) EXPECT_EQ(p.value, p.name == "val_loss" ? 5.5 : 4.5) << p.name;
    EXPECT_EQ(store.latest_metrics(id).at("val_loss").value, 5.5);
}

TEST(RunStoreMetrics, TheMigrationRemovesDuplicatesKeepingTheLast) {
    testing::TempDir dir;
    const auto path = dir.path() / "runs.sqlite";
    // Schema 5 had no unique key: an interrupted run wrote step 0 three times.
    make_old_store(path, 5,
                   "INSERT INTO runs (name, status, created_at, config_json) VALUES "
                   "('r', 'interrupted', '2026-01-01T00:00:00Z', '{}');"
                   "INSERT INTO metrics VALUES (1, 0, 0, 0, 'val_loss', 9.0);"
                   "INSERT INTO metrics VALUES (1, 0, 0, 0, 'val_loss', 8.0);"
                   "INSERT INTO metrics VALUES (1, 1, 8, 1, 'train_loss', 7.0);"
                   "INSERT INTO metrics VALUES (1, 0, 0, 0, 'val_loss', 6.0)");
    RunStore store(path);
    EXPECT_EQ(store.integrity_check(), "ok");
    const auto val = store.metrics(1, "val_loss");
    ASSERT_EQ(val.size(), 1u);
    EXPECT_EQ(val[0].value, 6.0);  // the last written
    EXPECT_EQ(store.metrics(1).size(), 2u);
    EXPECT_EQ(store.latest_metrics(1).at("val_loss").value, 6.0);
}

TEST(RunFolders, TwoStoresInOneFolderNeverShareARunsFiles) {
    testing::TempDir dir;
    RunStore a(dir.path() / "a.sqlite");
    RunStore b(dir.path() / "b.sqlite");
    EXPECT_NE(a.store_id(), b.store_id());
    const auto ra = a.create_run(named("a"));
    const auto rb = b.create_run(named("b"));
    ASSERT_EQ(ra, rb);  // both are run 1 of their store
    EXPECT_NE(a.run_dir(ra), b.run_dir(rb));
    std::ofstream(b.claim_run_dir(rb) / "best.safetensors") << "b's model";
    EXPECT_EQ(a.delete_run(ra), "");
    EXPECT_TRUE(fs::exists(b.run_dir(rb) / "best.safetensors"));
}

TEST(RunFolders, AFolderThatIsNotTheRunsIsNeitherUsedNorDeleted) {
    testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto id = store.create_run(named("a"));
    const auto folder = store.run_dir(id);
    // Another store's marker in this run's folder (say, a replaced database's).
    std::ofstream(folder / "run.json") << R"({"store_id": "0123456789abcdef", "run_id": 1})";
    std::ofstream(folder / "best.safetensors") << "theirs";
    const auto e = error_of([&] { store.claim_run_dir(id); });
    EXPECT_NE(e.find("belongs to run 1 of run store 0123456789abcdef"), std::string::npos) << e;
    const auto note = store.delete_run(id);
    EXPECT_NE(note.find("left in place"), std::string::npos) << note;
    EXPECT_TRUE(fs::exists(folder / "best.safetensors"));
    // Files without any marker are not adopted either.
    // A new run (SQLite may give it the deleted run's id) takes another folder.
    const auto id2 = store.create_run(named("b"));
    EXPECT_NE(store.run_dir(id2), folder);
    EXPECT_TRUE(fs::exists(store.run_dir(id2) / "run.json"));
    EXPECT_TRUE(fs::exists(folder / "best.safetensors"));
    fs::remove(store.run_dir(id2) / "run.json");
    std::ofstream(store.run_dir(id2) / "stray.txt") << "?";
    EXPECT_NE(error_of([&] { store.claim_run_dir(id2); }).find("no marker"), std::string::npos);
}

TEST(RunFolders, LegacyFoldersAreClaimedByTheStoreThatMigratesFirst) {
    testing::TempDir dir;
    const auto path = dir.path() / "runs.sqlite";
    make_old_store(path, 6,
                   "INSERT INTO runs (name, status, created_at, config_json) VALUES "
                   "('old', 'finished', '2026-01-01T00:00:00Z', '{}')");
    fs::create_directories(dir.path() / "runs/1/checkpoints");
    std::ofstream(dir.path() / "runs/1/best.safetensors") << "old model";
    RunStore store(path);
    EXPECT_EQ(store.run_dir(1), dir.path() / "runs/1");
    EXPECT_EQ(store.claim_run_dir(1), dir.path() / "runs/1");  // its own now
    // A second, new store in the same folder finds it taken.
    RunStore other(dir.path() / "other.sqlite");
    const auto id = other.create_run(named("new"));
    EXPECT_NE(other.run_dir(id), store.run_dir(1));
}

}  // namespace
}  // namespace itera
