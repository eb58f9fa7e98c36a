#pragma once
// The run store's schema as numbered migrations. Migration i (1-based) takes
// the database from user_version i-1 to i; never edit a released migration,
// append a new one.

#include <vector>

namespace itera::schema {

inline const std::vector<const char*>& migrations() {
    static const std::vector<const char*> m = {
        // 1: runs, their metrics and checkpoints; tables later features fill.
        R"sql(
CREATE TABLE runs (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'finished',
                                                     'failed', 'stopped', 'interrupted')),
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    ended_at         TEXT,
    config_json      TEXT NOT NULL,
    preset           TEXT NOT NULL DEFAULT '',
    dataset          TEXT NOT NULL DEFAULT '',
    tokenizer        TEXT NOT NULL DEFAULT '',
    seed             INTEGER NOT NULL DEFAULT 0,
    library_versions TEXT NOT NULL DEFAULT '',
    git_revision     TEXT NOT NULL DEFAULT '',
    notes            TEXT NOT NULL DEFAULT '',
    message          TEXT NOT NULL DEFAULT '',
    owner_pid        INTEGER,
    owner_host       TEXT,
    heartbeat_at     REAL
);
CREATE TABLE run_tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
);
CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step   INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    wall_s REAL NOT NULL,
    name   TEXT NOT NULL,
    value  REAL NOT NULL
);
CREATE INDEX metrics_by_name ON metrics(run_id, name, step);
CREATE TABLE latest_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    step   INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    wall_s REAL NOT NULL,
    value  REAL NOT NULL,
    PRIMARY KEY (run_id, name)
);
CREATE TABLE checkpoints (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step     INTEGER NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('latest', 'best')),
    path     TEXT NOT NULL,
    bytes    INTEGER NOT NULL,
    sha256   TEXT NOT NULL,
    val_loss REAL,
    created_at TEXT NOT NULL
);
CREATE INDEX checkpoints_by_run ON checkpoints(run_id, kind, step);
CREATE TABLE compressions (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    source_path TEXT NOT NULL,
    method      TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    path        TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE evaluations (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    model_path    TEXT NOT NULL,
    dataset       TEXT NOT NULL,
    tokens        INTEGER NOT NULL,
    loss          REAL NOT NULL,
    perplexity    REAL NOT NULL,
    bits_per_byte REAL,
    details       TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL
);
CREATE TABLE generations (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    model_path TEXT NOT NULL,
    prompt     TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    output     TEXT NOT NULL,
    tokens     INTEGER NOT NULL,
    seconds    REAL NOT NULL,
    created_at TEXT NOT NULL
);
)sql",
        // 2: sensitivity sweeps (mixed precision), one row per measured sweep.
        R"sql(
CREATE TABLE sensitivity_sweeps (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    source_path   TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    settings      TEXT NOT NULL,
    sweep         TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX sensitivity_sweeps_by_source ON sensitivity_sweeps(source_sha256, settings);
)sql",
        // 3: a run started from another model: a fine-tune of a pruned or adapted
        // checkpoint, or a student distilled from a teacher.
        R"sql(
ALTER TABLE runs ADD COLUMN parent_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN parent_checkpoint TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN parent_relation TEXT NOT NULL DEFAULT '';
)sql",
        // 4: what the HTTP server answered, and what users said of it.
        R"sql(
CREATE TABLE served (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    model_path TEXT NOT NULL,
    variant    TEXT NOT NULL,
    endpoint   TEXT NOT NULL,
    prompt     TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    output     TEXT NOT NULL,
    tokens     INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE feedback (
    id          INTEGER PRIMARY KEY,
    served_id   INTEGER NOT NULL REFERENCES served(id) ON DELETE CASCADE,
    rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    correctness TEXT NOT NULL DEFAULT '',
    comments    TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
CREATE INDEX feedback_by_served ON feedback(served_id);
)sql",
        // 5: a compression's column holds its measured report (CompressionReport).
        R"sql(
ALTER TABLE compressions RENAME COLUMN settings TO report;
)sql",
        // 6: each (run, metric, step) is stored once: earlier attempts' duplicates
        // (a run resumed before its first checkpoint kept them) go, the last kept.
        R"sql(
DELETE FROM metrics WHERE rowid NOT IN
    (SELECT MAX(rowid) FROM metrics GROUP BY run_id, name, step);
DROP INDEX metrics_by_name;
CREATE UNIQUE INDEX metrics_by_name ON metrics(run_id, name, step);
DELETE FROM latest_metrics;
INSERT INTO latest_metrics (run_id, name, step, tokens, wall_s, value)
    SELECT run_id, name, step, tokens, wall_s, value FROM metrics m
    WHERE step = (SELECT MAX(step) FROM metrics WHERE run_id = m.run_id AND name = m.name);
)sql",
        // 7: the store's identity, and each run's folder (relative to the
        // database's folder) named in its row: a folder is marked with the store
        // and run it belongs to, so two stores in one folder never share one.
        R"sql(
CREATE TABLE store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO store_info (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
ALTER TABLE runs ADD COLUMN dir TEXT NOT NULL DEFAULT '';
UPDATE runs SET dir = 'runs/' || id;
)sql",
        // 8: hyperparameter sweeps (docs/sweeps.md): a sweep's spec and state, and
        // its trials, each an ordinary run with the sampled parameters.
        R"sql(
CREATE TABLE sweeps (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('running', 'stopping', 'stopped', 'finished',
                                                 'failed', 'interrupted')),
    spec         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    ended_at     TEXT,
    message      TEXT NOT NULL DEFAULT '',
    elapsed_s    REAL NOT NULL DEFAULT 0,
    owner_pid    INTEGER,
    owner_host   TEXT,
    heartbeat_at REAL
);
CREATE TABLE sweep_trials (
    sweep_id    INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    trial       INTEGER NOT NULL,
    run_id      INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    params      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'waiting', 'completed', 'stopped',
                                                'failed')),
    target_step INTEGER NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT '',
    decisions   TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (sweep_id, trial)
);
CREATE INDEX sweep_trials_by_run ON sweep_trials(run_id);
)sql",
    };
    return m;
}

}  // namespace itera::schema
