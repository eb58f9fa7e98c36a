#include "store/run_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "data/utf8.h"
#include "store/process_owner.h"
#include "store/schema.h"
#include "store/statement.h"
#include "util/error.h"
#include "util/time_text.h"

namespace itera {
namespace {

using store_owner::host_name;
using store_owner::now_unix;
using store_owner::owner_is_dead;

std::string now_iso() {
    return utc_now();
}

RunRecord read_run(sql::Statement& s) {
    RunRecord r;
    r.id = s.integer(0);
    r.name = s.text(1);
    r.status = parse_run_status(s.text(2));
    r.created_at = s.text(3);
    r.started_at = s.text(4);
    r.ended_at = s.text(5);
    r.config_json = s.text(6);
    r.preset = s.text(7);
    r.dataset = s.text(8);
    r.tokenizer = s.text(9);
    r.seed = static_cast<std::uint64_t>(s.integer(10));
    r.library_versions = s.text(11);
    r.git_revision = s.text(12);
    r.notes = s.text(13);
    r.message = s.text(14);
    if (!s.null(15)) r.parent_run_id = s.integer(15);
    r.parent_checkpoint = s.text(16);
    r.parent_relation = s.text(17);
    return r;
}

constexpr const char* kRunColumns =
    "SELECT id, name, status, created_at, started_at, ended_at, config_json, preset, dataset, "
    "tokenizer, seed, library_versions, git_revision, notes, message, parent_run_id, "
    "parent_checkpoint, parent_relation FROM runs ";

}  // namespace

RunStore::RunStore(const std::filesystem::path& path) : path_(path) {
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw Error("run store " + path.string() + ": cannot open: " + msg);
    }
    try {
        sqlite3_busy_timeout(db_, 10000);
        exec("PRAGMA foreign_keys = ON");
        {
            sql::Statement s(db_, "PRAGMA journal_mode = WAL");
            if (!s.step() || s.text(0) != "wal")
                throw Error("run store " + path.string() + ": cannot switch to WAL mode");
        }
        exec("PRAGMA synchronous = NORMAL");  // with WAL: durable at checkpoints, never corrupt
        const int before = schema_version();
        migrate();
        {
            sql::Statement id(db_, "SELECT value FROM store_info WHERE key = 'store_id'");
            if (!id.step()) throw Error("run store " + path.string() + " has no store id");
            store_id_ = id.text(0);
        }
        if (before < 7) adopt_legacy_run_dirs();
        mark_dead_runs_interrupted();
    } catch (const Error& e) {
        sqlite3_close(db_);
        db_ = nullptr;
        const std::string what = e.what();
        if (what.find("file is not a database") != std::string::npos)
            throw Error("run store " + path.string() + ": not an SQLite database");
        throw;
    }
}

RunStore::~RunStore() {
    sqlite3_close(db_);
}

void RunStore::exec(const std::string& q) {
    char* err = nullptr;
    if (sqlite3_exec(db_, q.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error("run store " + path_.string() + ": " + msg);
    }
}

int RunStore::schema_version() const {
    sql::Statement s(db_, "PRAGMA user_version");
    s.step();
    return static_cast<int>(s.integer(0));
}

void RunStore::migrate() {
    const auto& steps = schema::migrations();
    exec("BEGIN IMMEDIATE");  // one connection migrates; others wait, then see it done
    try {
        const int version = schema_version();
        if (version > static_cast<int>(steps.size()))
            throw Error("run store " + path_.string() + " has schema version " +
                        std::to_string(version) + ", newer than this build understands (" +
                        std::to_string(steps.size()) + ")");
        for (int v = version; v < static_cast<int>(steps.size()); ++v) {
            exec(steps[v]);
            exec("PRAGMA user_version = " + std::to_string(v + 1));
        }
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void RunStore::mark_dead_runs_interrupted() {
    // The rows of `table` in a live status whose owner process is gone.
    auto mark = [this](const std::string& table, const std::string& live,
                       const std::string& message) {
        std::vector<std::int64_t> dead;
        {
            sql::Statement s(db_, ("SELECT id, owner_pid, owner_host, heartbeat_at FROM " + table +
                                   " WHERE status IN (" + live + ")")
                                      .c_str());
            while (s.step())
                if (owner_is_dead(s.null(1) ? 0 : s.integer(1), s.text(2), s.real(3)))
                    dead.push_back(s.integer(0));
        }
        sql::Statement u(db_, ("UPDATE " + table +
                               " SET status = 'interrupted', ended_at = ?2, message = ?3 "
                               "WHERE id = ?1 AND status IN (" +
                               live + ")")
                                  .c_str());
        for (auto id : dead) u.bind(1, id).bind(2, now_iso()).bind(3, message).run();
    };
    mark("runs", "'queued', 'running', 'paused'",
         "the training process ended without closing the run");
    mark("sweeps", "'running', 'stopping'", "the sweep's process ended without closing it");
}

std::int64_t RunStore::create_run(const NewRun& r) {
    sql::Statement s(db_,
                     "INSERT INTO runs (name, status, created_at, config_json, preset, dataset, "
                     "tokenizer, seed, library_versions, git_revision, parent_run_id, "
                     "parent_checkpoint, parent_relation, owner_pid, owner_host, heartbeat_at) "
                     "VALUES (?1, 'queued', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                     "?14, ?15)");
    s.bind(1, r.name)
        .bind(2, now_iso())
        .bind(3, r.config_json)
        .bind(4, r.preset)
        .bind(5, r.dataset)
        .bind(6, r.tokenizer)
        .bind(7, static_cast<std::int64_t>(r.seed))
        .bind(8, r.library_versions)
        .bind(9, r.git_revision)
        .bind(10, r.parent_run_id)
        .bind(11, r.parent_checkpoint)
        .bind(12, r.parent_relation)
        // The creating process owns a queued run: killed before training starts,
        // the run is found interrupted like one killed while training.
        .bind(13, static_cast<std::int64_t>(getpid()))
        .bind(14, host_name())
        .bind(15, now_unix())
        .run();
    const std::int64_t id = sqlite3_last_insert_rowid(db_);
    // A new run owns nothing yet: a folder of its name that holds files is
    // someone else's (a deleted run whose id SQLite reuses and whose folder
    // was left in place, another store's), so the run takes the next free name.
    const auto base = "runs/" + store_id_.substr(0, 8) + "/" + std::to_string(id);
    std::string name = base;
    for (int n = 2; n <= 1000; ++n) {
        std::error_code ec;
        const auto at = path_.parent_path() / name;
        if (!std::filesystem::exists(at, ec) || std::filesystem::is_empty(at, ec)) break;
        name = base + "-" + std::to_string(n);
    }
    sql::Statement dir(db_, "UPDATE runs SET dir = ?2 WHERE id = ?1");
    dir.bind(1, id).bind(2, name).run();
    claim_run_dir(id);
    return id;
}

void RunStore::start_run(std::int64_t id) {
    sql::Statement s(db_,
                     "UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?2), "
                     "ended_at = NULL, message = '', owner_pid = ?3, owner_host = ?4, "
                     "heartbeat_at = ?5 WHERE id = ?1");
    s.bind(1, id)
        .bind(2, now_iso())
        .bind(3, static_cast<std::int64_t>(getpid()))
        .bind(4, host_name())
        .bind(5, now_unix())
        .run();
    if (sqlite3_changes(db_) == 0) run(id);  // throws "no run"
}

void RunStore::set_status(std::int64_t id, RunStatus status, const std::string& message) {
    const bool ended = status == RunStatus::Finished || status == RunStatus::Failed ||
                       status == RunStatus::Stopped || status == RunStatus::Interrupted;
    sql::Statement s(db_,
                     "UPDATE runs SET status = ?2, message = ?3, heartbeat_at = ?4, "
                     "ended_at = CASE WHEN ?5 THEN ?6 ELSE NULL END WHERE id = ?1");
    s.bind(1, id)
        .bind(2, run_status_name(status))
        .bind(3, message)
        .bind(4, now_unix())
        .bind(5, std::int64_t{ended})
        .bind(6, now_iso())
        .run();
    if (sqlite3_changes(db_) == 0) run(id);
}

void RunStore::set_config(std::int64_t id, const std::string& config_json) {
    sql::Statement s(db_, "UPDATE runs SET config_json = ?2 WHERE id = ?1");
    s.bind(1, id).bind(2, config_json).run();
}

void RunStore::append_metrics(std::int64_t id, const std::vector<MetricPoint>& points) {
    exec("BEGIN IMMEDIATE");
    try {
        // A step recomputed after a resume replaces its earlier value.
        sql::Statement ins(db_,
                           "INSERT INTO metrics (run_id, step, tokens, wall_s, name, value) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (run_id, name, step) DO "
                           "UPDATE SET tokens = excluded.tokens, wall_s = excluded.wall_s, "
                           "value = excluded.value");
        sql::Statement latest(
            db_,
            "INSERT INTO latest_metrics (run_id, name, step, tokens, wall_s, value) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (run_id, name) DO UPDATE SET "
            "step = excluded.step, tokens = excluded.tokens, wall_s = excluded.wall_s, "
            "value = excluded.value WHERE excluded.step >= latest_metrics.step");
        for (const auto& p : points) {
            ins.bind(1, id).bind(2, p.step).bind(3, p.tokens).bind(4, p.wall_s).bind(5, p.name);
            ins.bind(6, p.value).run();
            latest.bind(1, id).bind(2, p.name).bind(3, p.step).bind(4, p.tokens).bind(5, p.wall_s);
            latest.bind(6, p.value).run();
        }
        sql::Statement beat(db_, "UPDATE runs SET heartbeat_at = ?2 WHERE id = ?1");
        beat.bind(1, id).bind(2, now_unix()).run();
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void RunStore::add_checkpoint(const CheckpointRecord& c) {
    sql::Statement s(db_,
                     "INSERT INTO checkpoints (run_id, step, kind, path, bytes, sha256, val_loss, "
                     "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    s.bind(1, c.run_id)
        .bind(2, c.step)
        .bind(3, c.kind)
        .bind(4, c.path)
        .bind(5, c.bytes)
        .bind(6, c.sha256)
        .bind(7, c.val_loss)
        .bind(8, now_iso())
        .run();
}

std::int64_t RunStore::add_compression(const CompressionRecord& c) {
    // A record describes the file at `path`: an earlier one for the same path
    // described a file that has just been replaced.
    exec("BEGIN IMMEDIATE");
    try {
        sql::Statement drop(db_, "DELETE FROM compressions WHERE path = ?1");
        drop.bind(1, c.path).run();
        const auto id = insert_compression(c);
        exec("COMMIT");
        return id;
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
}

std::int64_t RunStore::insert_compression(const CompressionRecord& c) {
    sql::Statement s(db_,
                     "INSERT INTO compressions (run_id, source_path, method, report, path, bytes, "
                     "sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    s.bind(1, c.run_id)
        .bind(2, c.source_path)
        .bind(3, c.method)
        .bind(4, c.report.to_json())
        .bind(5, c.path)
        .bind(6, c.bytes)
        .bind(7, c.sha256)
        .bind(8, now_iso())
        .run();
    return sqlite3_last_insert_rowid(db_);
}

std::vector<CompressionRecord> RunStore::compressions(std::optional<std::int64_t> run_id) {
    sql::Statement s(db_,
                     "SELECT id, run_id, source_path, method, report, path, bytes, sha256, "
                     "created_at FROM compressions WHERE ?1 IS NULL OR run_id = ?1 ORDER BY id");
    s.bind(1, run_id);
    std::vector<CompressionRecord> out;
    while (s.step()) {
        CompressionRecord c;
        c.id = s.integer(0);
        if (!s.null(1)) c.run_id = s.integer(1);
        c.source_path = s.text(2);
        c.method = s.text(3);
        try {
            c.report = CompressionReport::from_json(s.text(4));
        } catch (const Error& e) {
            c.report.method = c.method;
            c.report_error = e.what();
        }
        c.path = s.text(5);
        c.bytes = s.integer(6);
        c.sha256 = s.text(7);
        c.created_at = s.text(8);
        out.push_back(std::move(c));
    }
    return out;
}

std::int64_t RunStore::add_generation(const GenerationRecord& g) {
    sql::Statement s(db_,
                     "INSERT INTO generations (run_id, model_path, prompt, settings, output, "
                     "tokens, seconds, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    s.bind(1, g.run_id)
        .bind(2, g.model_path)
        .bind(3, g.prompt)
        .bind(4, g.settings)
        .bind(5, g.output)
        .bind(6, g.tokens)
        .bind(7, g.seconds)
        .bind(8, now_iso())
        .run();
    return sqlite3_last_insert_rowid(db_);
}

std::int64_t RunStore::add_sensitivity_sweep(const SensitivityRecord& r) {
    sql::Statement s(db_,
                     "INSERT INTO sensitivity_sweeps (run_id, source_path, source_sha256, "
                     "settings, sweep, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    s.bind(1, r.run_id)
        .bind(2, r.source_path)
        .bind(3, r.source_sha256)
        .bind(4, r.settings)
        .bind(5, r.sweep)
        .bind(6, now_iso())
        .run();
    return sqlite3_last_insert_rowid(db_);
}

std::optional<SensitivityRecord> RunStore::find_sensitivity_sweep(const std::string& sha256,
                                                                  const std::string& settings) {
    sql::Statement s(db_,
                     "SELECT id, run_id, source_path, source_sha256, settings, sweep, created_at "
                     "FROM sensitivity_sweeps WHERE source_sha256 = ?1 AND settings = ?2 "
                     "ORDER BY id DESC LIMIT 1");
    s.bind(1, sha256).bind(2, settings);
    if (!s.step()) return std::nullopt;
    SensitivityRecord r;
    r.id = s.integer(0);
    if (!s.null(1)) r.run_id = s.integer(1);
    r.source_path = s.text(2);
    r.source_sha256 = s.text(3);
    r.settings = s.text(4);
    r.sweep = s.text(5);
    r.created_at = s.text(6);
    return r;
}

std::vector<GenerationRecord> RunStore::generations(std::size_t limit) {
    sql::Statement s(db_,
                     "SELECT id, run_id, model_path, prompt, settings, output, tokens, seconds, "
                     "created_at FROM generations ORDER BY id DESC LIMIT ?1");
    s.bind(1, static_cast<std::int64_t>(limit));
    std::vector<GenerationRecord> out;
    while (s.step()) {
        GenerationRecord g;
        g.id = s.integer(0);
        if (!s.null(1)) g.run_id = s.integer(1);
        g.model_path = s.text(2);
        g.prompt = s.text(3);
        g.settings = s.text(4);
        g.output = s.text(5);
        g.tokens = s.integer(6);
        g.seconds = s.real(7);
        g.created_at = s.text(8);
        out.push_back(std::move(g));
    }
    return out;
}

void RunStore::forget_checkpoint(std::int64_t id, const std::string& path) {
    sql::Statement s(db_, "DELETE FROM checkpoints WHERE run_id = ?1 AND path = ?2");
    s.bind(1, id).bind(2, path).run();
}

void RunStore::truncate_metrics(std::int64_t id, std::int64_t step) {
    exec("BEGIN IMMEDIATE");
    try {
        sql::Statement del(db_, "DELETE FROM metrics WHERE run_id = ?1 AND step > ?2");
        del.bind(1, id).bind(2, step).run();
        sql::Statement clear(db_, "DELETE FROM latest_metrics WHERE run_id = ?1");
        clear.bind(1, id).run();
        sql::Statement rebuild(
            db_,
            "INSERT INTO latest_metrics (run_id, name, step, tokens, wall_s, value) "
            "SELECT run_id, name, step, tokens, wall_s, value FROM metrics m WHERE run_id = ?1 "
            "AND rowid = (SELECT rowid FROM metrics WHERE run_id = m.run_id AND name = m.name "
            "ORDER BY step DESC, rowid DESC LIMIT 1)");
        rebuild.bind(1, id).run();
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

std::vector<RunRecord> RunStore::list_runs() {
    std::vector<RunRecord> out;
    sql::Statement s(db_, (std::string(kRunColumns) + "ORDER BY id").c_str());
    while (s.step()) out.push_back(read_run(s));
    sql::Statement t(db_, "SELECT run_id, tag FROM run_tags ORDER BY run_id, tag");
    std::size_t i = 0;
    while (t.step()) {
        const auto id = t.integer(0);
        while (i < out.size() && out[i].id < id) ++i;
        if (i < out.size() && out[i].id == id) out[i].tags.push_back(t.text(1));
    }
    return out;
}

std::optional<RunRecord> RunStore::find_run(std::int64_t id) {
    sql::Statement s(db_, (std::string(kRunColumns) + "WHERE id = ?1").c_str());
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    auto r = read_run(s);
    sql::Statement t(db_, "SELECT tag FROM run_tags WHERE run_id = ?1 ORDER BY tag");
    t.bind(1, id);
    while (t.step()) r.tags.push_back(t.text(0));
    return r;
}

RunRecord RunStore::run(std::int64_t id) {
    auto r = find_run(id);
    if (!r) throw Error("no run " + std::to_string(id) + " in " + path_.string());
    return *r;
}

std::vector<MetricPoint> RunStore::metrics(std::int64_t id, const std::string& name) {
    sql::Statement s(db_, name.empty() ? "SELECT step, tokens, wall_s, name, value FROM metrics "
                                         "WHERE run_id = ?1 ORDER BY step, rowid"
                                       : "SELECT step, tokens, wall_s, name, value FROM metrics "
                                         "WHERE run_id = ?1 AND name = ?2 ORDER BY step, rowid");
    s.bind(1, id);
    if (!name.empty()) s.bind(2, name);
    std::vector<MetricPoint> out;
    while (s.step()) out.push_back({s.integer(0), s.integer(1), s.real(2), s.text(3), s.real(4)});
    return out;
}

std::vector<MetricPoint> RunStore::metrics_after(std::int64_t id, std::int64_t step) {
    sql::Statement s(db_,
                     "SELECT step, tokens, wall_s, name, value FROM metrics "
                     "WHERE run_id = ?1 AND step > ?2 ORDER BY step, rowid");
    s.bind(1, id).bind(2, step);
    std::vector<MetricPoint> out;
    while (s.step()) out.push_back({s.integer(0), s.integer(1), s.real(2), s.text(3), s.real(4)});
    return out;
}

std::map<std::string, MetricPoint> RunStore::latest_metrics(std::int64_t id) {
    sql::Statement s(db_,
                     "SELECT step, tokens, wall_s, name, value FROM latest_metrics "
                     "WHERE run_id = ?1");
    s.bind(1, id);
    std::map<std::string, MetricPoint> out;
    while (s.step()) out[s.text(3)] = {s.integer(0), s.integer(1), s.real(2), s.text(3), s.real(4)};
    return out;
}

std::map<std::string, double> RunStore::best_validation(std::int64_t id) {
    sql::Statement s(db_,
                     "SELECT name, MIN(value) FROM metrics WHERE run_id = ?1 AND name IN "
                     "('val_loss', 'val_perplexity', 'val_bits_per_byte') GROUP BY name");
    s.bind(1, id);
    std::map<std::string, double> out;
    while (s.step()) out[s.text(0)] = s.real(1);
    return out;
}

std::vector<CheckpointRecord> RunStore::checkpoints(std::int64_t id) {
    sql::Statement s(db_,
                     "SELECT run_id, step, kind, path, bytes, sha256, val_loss FROM checkpoints "
                     "WHERE run_id = ?1 ORDER BY step, id");
    s.bind(1, id);
    std::vector<CheckpointRecord> out;
    while (s.step()) {
        CheckpointRecord c{s.integer(0), s.integer(1), s.text(2),   s.text(3),
                           s.integer(4), s.text(5),    std::nullopt};
        if (!s.null(6)) c.val_loss = s.real(6);
        out.push_back(c);
    }
    return out;
}

void RunStore::add_tag(std::int64_t id, const std::string& tag) {
    if (tag.empty()) throw Error("a tag cannot be empty");
    run(id);
    sql::Statement s(db_, "INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?1, ?2)");
    s.bind(1, id).bind(2, tag).run();
}

void RunStore::remove_tag(std::int64_t id, const std::string& tag) {
    run(id);
    sql::Statement s(db_, "DELETE FROM run_tags WHERE run_id = ?1 AND tag = ?2");
    s.bind(1, id).bind(2, tag).run();
}

void RunStore::set_notes(std::int64_t id, const std::string& notes) {
    run(id);
    sql::Statement s(db_, "UPDATE runs SET notes = ?2 WHERE id = ?1");
    s.bind(1, id).bind(2, notes).run();
}

void RunStore::rename_run(std::int64_t id, const std::string& name) {
    run(id);
    if (name.find_first_not_of(" \t\r\n") == std::string::npos)
        throw Error("a run name must not be empty");
    if (name.size() > 200)
        throw Error("a run name is at most 200 bytes (this one has " + std::to_string(name.size()) +
                    ")");
    if (const auto bad = first_invalid_utf8(name))
        throw Error("the run name is not valid UTF-8 (at byte " + std::to_string(*bad) + ")");
    sql::Statement s(db_, "UPDATE runs SET name = ?2 WHERE id = ?1");
    s.bind(1, id).bind(2, name).run();
}

std::string RunStore::integrity_check() {
    sql::Statement s(db_, "PRAGMA integrity_check");
    std::string out;
    while (s.step()) out += (out.empty() ? "" : "\n") + s.text(0);
    return out;
}

}  // namespace itera
