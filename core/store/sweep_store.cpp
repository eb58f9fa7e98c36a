// The run store's sweeps and their trials (schema migration 8).

#include <sqlite3.h>
#include <unistd.h>

#include "store/process_owner.h"
#include "store/run_store.h"
#include "store/statement.h"
#include "util/error.h"
#include "util/time_text.h"

namespace itera {
namespace {

constexpr const char* kSweepColumns =
    "id, name, status, spec, created_at, COALESCE(ended_at, ''), message, elapsed_s";

SweepRecord read_sweep(sql::Statement& s) {
    SweepRecord r;
    r.id = s.integer(0);
    r.name = s.text(1);
    r.status = s.text(2);
    r.spec = s.text(3);
    r.created_at = s.text(4);
    r.ended_at = s.text(5);
    r.message = s.text(6);
    r.elapsed_s = s.real(7);
    return r;
}

constexpr const char* kTrialColumns =
    "sweep_id, trial, run_id, params, status, target_step, reason, decisions";

TrialRecord read_trial(sql::Statement& s) {
    TrialRecord t;
    t.sweep_id = s.integer(0);
    t.trial = s.integer(1);
    if (!s.null(2)) t.run_id = s.integer(2);
    t.params = s.text(3);
    t.status = s.text(4);
    t.target_step = s.integer(5);
    t.reason = s.text(6);
    t.decisions = s.text(7);
    return t;
}

bool is_ended(const std::string& status) {
    return status != "running" && status != "stopping";
}

}  // namespace

std::int64_t RunStore::create_sweep(const std::string& name, const std::string& spec_json) {
    sql::Statement s(db_,
                     "INSERT INTO sweeps (name, status, spec, created_at, owner_pid, owner_host, "
                     "heartbeat_at) VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6)");
    s.bind(1, name)
        .bind(2, spec_json)
        .bind(3, utc_now())
        .bind(4, static_cast<std::int64_t>(getpid()))
        .bind(5, store_owner::host_name())
        .bind(6, store_owner::now_unix())
        .run();
    return sqlite3_last_insert_rowid(db_);
}

void RunStore::claim_sweep(std::int64_t id) {
    exec("BEGIN IMMEDIATE");
    try {
        sql::Statement q(db_,
                         "SELECT status, owner_pid, owner_host, heartbeat_at FROM sweeps "
                         "WHERE id = ?1");
        q.bind(1, id);
        if (!q.step()) throw Error("no sweep " + std::to_string(id) + " in " + path_.string());
        const auto pid = q.null(1) ? 0 : q.integer(1);
        const bool mine = pid == getpid() && q.text(2) == store_owner::host_name();
        if (!is_ended(q.text(0)) && !mine && !store_owner::owner_is_dead(pid, q.text(2), q.real(3)))
            throw Error("sweep " + std::to_string(id) + " is " + q.text(0) + " in process " +
                        std::to_string(pid) + " on " + q.text(2));
        sql::Statement u(db_,
                         "UPDATE sweeps SET status = 'running', ended_at = NULL, message = '', "
                         "owner_pid = ?2, owner_host = ?3, heartbeat_at = ?4 WHERE id = ?1");
        u.bind(1, id)
            .bind(2, static_cast<std::int64_t>(getpid()))
            .bind(3, store_owner::host_name())
            .bind(4, store_owner::now_unix())
            .run();
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void RunStore::set_sweep_status(std::int64_t id, const std::string& status,
                                const std::string& message) {
    sql::Statement s(db_,
                     "UPDATE sweeps SET status = ?2, message = ?3, heartbeat_at = ?4, "
                     "ended_at = CASE WHEN ?5 THEN ?6 ELSE NULL END WHERE id = ?1");
    s.bind(1, id)
        .bind(2, status)
        .bind(3, message)
        .bind(4, store_owner::now_unix())
        .bind(5, std::int64_t{is_ended(status)})
        .bind(6, utc_now())
        .run();
    if (sqlite3_changes(db_) == 0) sweep(id);  // throws "no sweep"
}

void RunStore::sweep_heartbeat(std::int64_t id, double elapsed_s) {
    sql::Statement s(db_, "UPDATE sweeps SET heartbeat_at = ?2, elapsed_s = ?3 WHERE id = ?1");
    s.bind(1, id).bind(2, store_owner::now_unix()).bind(3, elapsed_s).run();
}

std::string RunStore::request_sweep_stop(std::int64_t id) {
    exec("BEGIN IMMEDIATE");
    try {
        sql::Statement q(db_,
                         "SELECT status, owner_pid, owner_host, heartbeat_at FROM sweeps "
                         "WHERE id = ?1");
        q.bind(1, id);
        if (!q.step()) throw Error("no sweep " + std::to_string(id) + " in " + path_.string());
        std::string status = q.text(0);
        if (!is_ended(status)) {
            const bool alive =
                !store_owner::owner_is_dead(q.null(1) ? 0 : q.integer(1), q.text(2), q.real(3));
            status = alive ? "stopping" : "stopped";
            sql::Statement u(db_,
                             "UPDATE sweeps SET status = ?2, ended_at = CASE WHEN ?3 THEN ?4 "
                             "ELSE NULL END, message = ?5 WHERE id = ?1");
            u.bind(1, id)
                .bind(2, status)
                .bind(3, std::int64_t{!alive})
                .bind(4, utc_now())
                .bind(5, std::string(alive ? "" : "stopped; its process had ended"))
                .run();
        }
        exec("COMMIT");
        return status;
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

std::optional<SweepRecord> RunStore::find_sweep(std::int64_t id) {
    sql::Statement s(
        db_, (std::string("SELECT ") + kSweepColumns + " FROM sweeps WHERE id = ?1").c_str());
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_sweep(s);
}

SweepRecord RunStore::sweep(std::int64_t id) {
    auto r = find_sweep(id);
    if (!r) throw Error("no sweep " + std::to_string(id) + " in " + path_.string());
    return *r;
}

std::vector<SweepRecord> RunStore::list_sweeps() {
    sql::Statement s(db_,
                     (std::string("SELECT ") + kSweepColumns + " FROM sweeps ORDER BY id").c_str());
    std::vector<SweepRecord> out;
    while (s.step()) out.push_back(read_sweep(s));
    return out;
}

void RunStore::put_trial(const TrialRecord& t) {
    sql::Statement s(
        db_,
        "INSERT OR REPLACE INTO sweep_trials (sweep_id, trial, run_id, params, status, "
        "target_step, reason, decisions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    s.bind(1, t.sweep_id)
        .bind(2, t.trial)
        .bind(3, t.run_id)
        .bind(4, t.params)
        .bind(5, t.status)
        .bind(6, t.target_step)
        .bind(7, t.reason)
        .bind(8, t.decisions)
        .run();
}

std::vector<TrialRecord> RunStore::trials(std::int64_t sweep_id) {
    sql::Statement s(db_, (std::string("SELECT ") + kTrialColumns +
                           " FROM sweep_trials WHERE sweep_id = ?1 ORDER BY trial")
                              .c_str());
    s.bind(1, sweep_id);
    std::vector<TrialRecord> out;
    while (s.step()) out.push_back(read_trial(s));
    return out;
}

std::optional<TrialRecord> RunStore::trial_of_run(std::int64_t run_id) {
    sql::Statement s(db_, (std::string("SELECT ") + kTrialColumns +
                           " FROM sweep_trials WHERE run_id = ?1 LIMIT 1")
                              .c_str());
    s.bind(1, run_id);
    if (!s.step()) return std::nullopt;
    return read_trial(s);
}

}  // namespace itera
