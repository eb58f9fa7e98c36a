// The run store: schema, runs, batched metrics and the latest-value table,
// checkpoints, deletion, dead-owner detection, and clear errors for files
// that are not databases. Plus SHA-256 against the FIPS 180-4 examples.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "error_of.h"
#include "store/run_store.h"
#include "store/schema.h"
#include "temp_dir.h"
#include "util/sha256.h"

namespace itera {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

TEST(Sha256, MatchesPublishedDigests) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // One million 'a', fed in uneven pieces through the streaming interface.
    Sha256 h;
    const std::string chunk(997, 'a');
    std::size_t left = 1000000;
    while (left) {
        const auto n = std::min(left, chunk.size());
        h.update(chunk.data(), n);
        left -= n;
    }
    EXPECT_EQ(h.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

NewRun sample_run(const std::string& name) {
    NewRun r;
    r.name = name;
    r.config_json = "{\"steps\": 10}";
    r.preset = "micro";
    r.dataset = "{\"corpus\": \"x\"}";
    r.tokenizer = "abc123";
    r.seed = 7;
    r.library_versions = "test";
    r.git_revision = "deadbeef";
    return r;
}

TEST(RunStore, CreatesSchemaInWalModeWithForeignKeys) {
    testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    EXPECT_EQ(store.schema_version(), static_cast<int>(schema::migrations().size()));
    EXPECT_EQ(store.integrity_check(), "ok");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / "runs.sqlite").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
    // Reopening does not migrate again.
    RunStore again(dir.path() / "runs.sqlite");
    EXPECT_EQ(again.schema_version(), static_cast<int>(schema::migrations().size()));
}

TEST(RunStore, KeepsRunsTagsNotesAndStatus) {
    testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto a = store.create_run(sample_run("first"));
    const auto b = store.create_run(sample_run("second"));
    EXPECT_NE(a, b);
    auto r = store.run(a);
    EXPECT_EQ(r.name, "first");
    EXPECT_EQ(r.status, RunStatus::Queued);
    EXPECT_EQ(r.seed, 7u);
    EXPECT_EQ(r.git_revision, "deadbeef");
    EXPECT_FALSE(r.created_at.empty());
    EXPECT_TRUE(r.started_at.empty());

    store.start_run(a);
    EXPECT_EQ(store.run(a).status, RunStatus::Running);
    EXPECT_FALSE(store.run(a).started_at.empty());
    store.set_status(a, RunStatus::Finished, "done");
    r = store.run(a);
    EXPECT_EQ(r.status, RunStatus::Finished);
    EXPECT_EQ(r.message, "done");
    EXPECT_FALSE(r.ended_at.empty());

    store.add_tag(a, "baseline");
    store.add_tag(a, "baseline");  // idempotent
    store.add_tag(a, "bpe");
    store.set_notes(a, "lr too high?");
    r = store.run(a);
    EXPECT_EQ(r.tags, (std::vector<std::string>{"baseline", "bpe"}));
    EXPECT_EQ(r.notes, "lr too high?");
    auto all = store.list_runs();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].tags.size(), 2u);
    EXPECT_TRUE(all[1].tags.empty());
    store.remove_tag(a, "baseline");
    store.remove_tag(a, "never-added");  // nothing to remove is not an error
    EXPECT_EQ(store.run(a).tags, (std::vector<std::string>{"bpe"}));

    // Renaming: any valid UTF-8 name up to 200 bytes; blank, longer or invalid ones are refused.
    store.rename_run(a, "baseline · η = 2e-3");
    EXPECT_EQ(store.run(a).name, "baseline · η = 2e-3");
    EXPECT_NE(error_of([&] { store.rename_run(a, " \t"); }).find("must not be empty"),
              std::string::npos);
    EXPECT_NE(error_of([&] { store.rename_run(a, std::string(201, 'x')); }).find("at most 200"),
              std::string::npos);
    EXPECT_NE(error_of([&] { store.rename_run(a, "bad \xff name"); }).find("at byte 4"),
              std::string::npos);
    EXPECT_NE(error_of([&] { store.rename_run(99, "x"); }).find("no run 99"), std::string::npos);
    EXPECT_EQ(store.run(a).name, "baseline · η = 2e-3");

    EXPECT_NE(error_of([&] { store.run(99); }).find("no run 99"), std::string::npos);
    EXPECT_NE(error_of([&] { store.add_tag(99, "x"); }).find("no run 99"), std::string::npos);
    EXPECT_NE(error_of([&] { store.add_tag(a, ""); }).find("empty"), std::string::npos);
}

TEST(RunStore, MetricsKeepEveryPointAndTheLatestValue) {
    testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto id = store.create_run(sample_run("m"));
    std::vector<MetricPoint> batch;
    for (int step = 1; step <= 100; ++step) {
        batch.push_back({step, step * 64, step * 0.5, "train_loss", 10.0 / step});
        if (step % 10 == 0) batch.push_back({step, step * 64, step * 0.5, "val_loss", 5.0 / step});
    }
    store.append_metrics(id, {batch.begin(), batch.begin() + 50});
    store.append_metrics(id, {batch.begin() + 50, batch.end()});
    EXPECT_EQ(store.metrics(id).size(), 110u);
    auto loss = store.metrics(id, "train_loss");
    ASSERT_EQ(loss.size(), 100u);
    EXPECT_EQ(loss.front().step, 1);
    EXPECT_DOUBLE_EQ(loss.back().value, 0.1);
    auto latest = store.latest_metrics(id);
    ASSERT_EQ(latest.size(), 2u);
    EXPECT_EQ(latest["train_loss"].step, 100);
    EXPECT_DOUBLE_EQ(latest["val_loss"].value, 0.05);
    const auto after = store.metrics_after(id, 95);  // 96..100 train, 100 val
    ASSERT_EQ(after.size(), 6u);
    EXPECT_EQ(after.front().step, 96);
    EXPECT_EQ(after.back().step, 100);

    // A resumed run drops what came after its checkpoint.
    store.truncate_metrics(id, 55);
    EXPECT_EQ(store.metrics(id, "train_loss").size(), 55u);
    latest = store.latest_metrics(id);
    EXPECT_EQ(latest["train_loss"].step, 55);
    EXPECT_EQ(latest["val_loss"].step, 50);
}

TEST(RunStore, CheckpointsAndDeletionRemoveRowsAndFiles) {
    testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto id = store.create_run(sample_run("c"));
    fs::create_directories(store.run_dir(id));
    const auto file = store.run_dir(id) / "best.safetensors";
    std::ofstream(file) << "x";
    store.add_checkpoint({id, 10, "best", file.string(), 1, sha256_hex("x"), 2.5});
    store.add_checkpoint({id, 20, "latest", "/elsewhere", 3, "00", std::nullopt});
    auto c = store.checkpoints(id);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].kind, "best");
    EXPECT_DOUBLE_EQ(*c[0].val_loss, 2.5);
    EXPECT_FALSE(c[1].val_loss.has_value());
    store.forget_checkpoint(id, "/elsewhere");
    EXPECT_EQ(store.checkpoints(id).size(), 1u);
    store.append_metrics(id, {{1, 1, 1, "train_loss", 1}});

    store.start_run(id);
    EXPECT_NE(error_of([&] { store.delete_run(id); }).find("stop it"), std::string::npos);
    store.set_status(id, RunStatus::Stopped);
    store.delete_run(id);
    EXPECT_FALSE(store.find_run(id).has_value());
    EXPECT_FALSE(fs::exists(store.run_dir(id)));
    EXPECT_TRUE(store.metrics(id).empty());
    EXPECT_TRUE(store.checkpoints(id).empty());
}

TEST(RunStore, CompressionsAreKeptPerFileAndGoWithTheirRun) {
    testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto id = store.create_run(sample_run("q"));
    CompressionRecord c;
    c.run_id = id;
    c.source_path = "/src.safetensors";
    c.method = "int8";
    c.report = CompressionReport::from_json(R"({"ratio": 3.6})");
    c.path = "/out/int8.safetensors";
    c.bytes = 100;
    c.sha256 = "ab";
    const auto first = store.add_compression(c);
    c.method = "nf4";
    c.path = "/out/nf4.safetensors";
    store.add_compression(c);
    c.method = "int4";  // overwrites the int8 file: its record is replaced
    c.path = "/out/int8.safetensors";
    const auto third = store.add_compression(c);
    EXPECT_NE(first, third);
    auto all = store.compressions(id);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].method, "nf4");
    EXPECT_EQ(all[1].method, "int4");
    EXPECT_EQ(all[1].path, "/out/int8.safetensors");
    EXPECT_EQ(all[1].report.ratio, 3.6);
    c.run_id.reset();  // a checkpoint from no stored run
    c.path = "/loose.safetensors";
    store.add_compression(c);
    EXPECT_EQ(store.compressions().size(), 3u);
    store.delete_run(id);
    ASSERT_EQ(store.compressions().size(), 1u);
    EXPECT_FALSE(store.compressions()[0].run_id.has_value());
}

TEST(RunStore, ARunWhoseProcessDiedIsInterruptedOnOpen) {
    testing::TempDir dir;
    const auto path = dir.path() / "runs.sqlite";
    std::int64_t mine, dead, unstarted, waiting;
    {
        RunStore store(path);
        mine = store.create_run(sample_run("alive"));
        dead = store.create_run(sample_run("dead"));
        unstarted = store.create_run(sample_run("killed while its data was prepared"));
        waiting = store.create_run(sample_run("queued by a live process"));
        store.start_run(mine);
        store.start_run(dead);
    }
    {
        // Make `dead` and `unstarted` look owned by a process that no longer exists.
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        for (auto id : {dead, unstarted})
            ASSERT_EQ(sqlite3_exec(db,
                                   ("UPDATE runs SET owner_pid = 2147483646 WHERE id = " +
                                    std::to_string(id))
                                       .c_str(),
                                   nullptr, nullptr, nullptr),
                      SQLITE_OK);
        sqlite3_close(db);
    }
    RunStore store(path);
    EXPECT_EQ(store.run(mine).status, RunStatus::Running);    // this process is alive
    EXPECT_EQ(store.run(waiting).status, RunStatus::Queued);  // and owns this one
    for (auto id : {dead, unstarted}) {
        auto r = store.run(id);
        EXPECT_EQ(r.status, RunStatus::Interrupted) << r.name;
        EXPECT_FALSE(r.ended_at.empty());
    }
}

TEST(RunStore, RejectsFilesThatAreNotDatabases) {
    testing::TempDir dir;
    const auto path = dir.path() / "notes.txt";
    std::ofstream(path) << std::string(4096, 'z');
    const auto e = error_of([&] { RunStore store(path); });
    EXPECT_NE(e.find(path.string()), std::string::npos) << e;
    EXPECT_NE(e.find("not an SQLite database"), std::string::npos) << e;
    EXPECT_NE(error_of([&] { RunStore store("/proc/no/such/dir/runs.sqlite"); }), "");
}

TEST(RunStore, MigratesASchemaOneStoreToTheNewest) {
    testing::TempDir dir;
    const auto path = dir.path() / "runs.sqlite";
    // What a build of schema 1 left: its tables, one run, user_version 1.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, schema::migrations()[0], nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "INSERT INTO runs (name, status, created_at, config_json) VALUES "
                           "('old', 'finished', '2026-01-01T00:00:00Z', '{}'); "
                           "PRAGMA user_version = 1",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    RunStore store(path);
    EXPECT_EQ(store.schema_version(), static_cast<int>(schema::migrations().size()));
    const std::int64_t id = 1;
    EXPECT_EQ(store.run(id).name, "old");
    EXPECT_FALSE(store.run(id).parent_run_id.has_value());
    EXPECT_EQ(store.run(id).parent_relation, "");
    SensitivityRecord r;
    r.run_id = id;
    r.source_path = "/m/best.safetensors";
    r.source_sha256 = "abc";
    r.settings = R"({"candidates":["int8"]})";
    r.sweep = R"({"entries":[]})";
    store.add_sensitivity_sweep(r);
    r.sweep = R"({"entries":[1]})";
    store.add_sensitivity_sweep(r);
    const auto found = store.find_sensitivity_sweep("abc", R"({"candidates":["int8"]})");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->sweep, R"({"entries":[1]})");  // the newest
    EXPECT_EQ(found->run_id, id);
    EXPECT_FALSE(store.find_sensitivity_sweep("abc", R"({"candidates":["int4"]})"));
    store.delete_run(id);  // its sweeps go with it
    EXPECT_FALSE(store.find_sensitivity_sweep("abc", R"({"candidates":["int8"]})"));
}

TEST(RunStore, LinksARunToTheModelItStartsFrom) {
    testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto teacher = store.create_run(sample_run("teacher"));
    auto student = sample_run("student");
    student.parent_run_id = teacher;
    student.parent_checkpoint = "/runs/1/best.safetensors";
    student.parent_relation = "teacher";
    const auto id = store.create_run(student);
    const auto r = store.run(id);
    ASSERT_TRUE(r.parent_run_id.has_value());
    EXPECT_EQ(*r.parent_run_id, teacher);
    EXPECT_EQ(r.parent_checkpoint, "/runs/1/best.safetensors");
    EXPECT_EQ(r.parent_relation, "teacher");
    store.delete_run(teacher);  // the student stays, without its link
    const auto kept = store.find_run(id);
    ASSERT_TRUE(kept.has_value());
    EXPECT_FALSE(kept->parent_run_id.has_value());
    EXPECT_EQ(kept->parent_checkpoint, "/runs/1/best.safetensors");
}

TEST(RunStore, RejectsADatabaseFromANewerBuild) {
    testing::TempDir dir;
    const auto path = dir.path() / "runs.sqlite";
    { RunStore store(path); }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    EXPECT_NE(error_of([&] { RunStore store(path); }).find("schema version 99"), std::string::npos);
}

}  // namespace
TEST(RunStore, KeepsGenerationsNewestFirst) {
    testing::TempDir dir;
    RunStore store(dir.path() / "runs.sqlite");
    const auto run = store.create_run(sample_run("g"));
    GenerationRecord g;
    g.run_id = run;
    g.model_path = "/m/best.safetensors";
    g.prompt = "Call me";
    g.settings = R"({"temperature":0})";
    g.output = " Ishmael.";
    g.tokens = 3;
    g.seconds = 0.01;
    store.add_generation(g);
    g.run_id.reset();  // a model file outside any run
    g.output = " maybe.";
    store.add_generation(g);
    const auto all = store.generations();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].output, " maybe.");
    EXPECT_FALSE(all[0].run_id);
    EXPECT_EQ(all[1].run_id, run);
    EXPECT_EQ(all[1].prompt, "Call me");
    EXPECT_FALSE(all[1].created_at.empty());
    EXPECT_EQ(store.generations(1).size(), 1u);
    store.delete_run(run);  // its generations go with it
    EXPECT_EQ(store.generations().size(), 1u);
}

}  // namespace itera
