"""Schema of ``runtui.db`` and its forward migrations.

The schema version lives in ``PRAGMA user_version``. `MIGRATIONS[i]` takes a
store from version ``i`` to ``i + 1``; a store whose version is higher than
`SCHEMA_VERSION` was written by a newer runtui and is refused, never
rewritten.

Storage decisions (each measured; see benchmarks/):

* ``metrics`` is a WITHOUT ROWID table keyed by (run_id, key_id, step): the
  key is the index every reader needs (one run's history of one metric, in
  step order), so there is no second copy of each point in a separate index.
  ``t`` is milliseconds since the run started (small integers take 1-4 bytes
  instead of an 8-byte float); a NaN value is stored as NULL because SQLite
  cannot store NaN. Together this keeps a point near 30 bytes on disk.
* ``metric_keys`` interns metric names so a point carries a small integer.
* ``metric_summary`` holds per-(run, metric) count, first/last step, last,
  min, max and a bucketed downsample (``spark``), kept current by the writer,
  so listing runs or drawing sparklines never scans raw points.

Indexes, and the read each one serves:

* ``runs_by_experiment`` — the runs table of one experiment, newest first.
* ``runs_by_started`` — the runs table of all experiments, newest first, and
  ``started>2d`` filters.
* ``runs_running`` — partial index over running runs: the liveness check that
  turns dead runs into ``crashed`` touches only those.
* ``runs_by_name`` — resolving a run ref given by name.
* ``params_by_key_kind`` / ``tags_by_key`` — filters such as ``lr>=1e-4``
  or ``tags.team=nlp`` across many runs. ``params_by_key_kind`` (which
  replaced v1's ``params_by_key(key, value)``) also holds ``kind``, so
  ``runtui ls`` finds the params that differ between runs from the index
  alone (10,000 runs: 10 ms instead of 22 with a table lookup a row).
* ``snapshot_files_by_hash`` — ``gc`` finding blobs no snapshot uses.
* ``summary_by_key`` — filters on a metric's last/min/max/count across runs
  (covering, so the spark JSON is never read for a filter).
"""

from __future__ import annotations

import sqlite3

from runtui.errors import StoreVersionError

_V1 = """
CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  REAL NOT NULL
);

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT NOT NULL UNIQUE,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    started_at    REAL NOT NULL,
    ended_at      REAL,
    heartbeat_at  REAL,
    exit_code     INTEGER,
    error         TEXT,
    command       TEXT,     -- JSON list: argv, secrets redacted
    cwd           TEXT,
    host          TEXT,
    user          TEXT,
    pid           INTEGER,
    pid_started   TEXT,     -- process start time as the OS reports it (pid reuse guard)
    python        TEXT,
    git_commit    TEXT,
    git_branch    TEXT,
    git_dirty     INTEGER,
    git_diff      TEXT,
    parent_uuid   TEXT,
    notes         TEXT,
    env           TEXT,     -- JSON object, secrets redacted
    snapshot_id   INTEGER REFERENCES snapshots(id)
);
CREATE INDEX runs_by_experiment ON runs(experiment_id, started_at);
CREATE INDEX runs_by_started ON runs(started_at);
CREATE INDEX runs_running ON runs(status) WHERE status = 'running';
CREATE INDEX runs_by_name ON runs(name);

CREATE TABLE params (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value,                  -- numbers as numbers, so filters compare numerically
    kind    TEXT NOT NULL,  -- int | float | bool | str | json | null
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key ON params(key, value);

CREATE TABLE tags (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX tags_by_key ON tags(key, value);

CREATE TABLE metric_keys (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);

CREATE TABLE metrics (
    run_id  INTEGER NOT NULL,
    key_id  INTEGER NOT NULL,
    step    INTEGER NOT NULL,
    t       INTEGER NOT NULL,   -- ms since runs.started_at
    value   REAL,               -- NULL means NaN
    PRIMARY KEY (run_id, key_id, step)
) WITHOUT ROWID;

CREATE TABLE metric_summary (
    run_id      INTEGER NOT NULL,
    key_id      INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    first_step  INTEGER NOT NULL,
    last_step   INTEGER NOT NULL,
    last        REAL,           -- NULL means NaN
    last_t      INTEGER NOT NULL,
    min         REAL,           -- over finite and infinite values, NULL if all NaN
    max         REAL,
    spark       TEXT NOT NULL,  -- JSON {"w": bucket width, "b": [[mean, n], ...]}
    PRIMARY KEY (run_id, key_id)
) WITHOUT ROWID;

CREATE TABLE artifacts (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL,  -- sha256 of the content, file at artifacts/<hash[:2]>/<hash>
    size        INTEGER NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;

CREATE TABLE blobs (
    hash  TEXT PRIMARY KEY,     -- sha256 of the uncompressed content
    size  INTEGER NOT NULL,     -- uncompressed size
    data  BLOB NOT NULL         -- zlib-compressed content
);

CREATE TABLE snapshots (
    id          INTEGER PRIMARY KEY,
    manifest    TEXT NOT NULL UNIQUE,  -- sha256 of the file list: same code, same snapshot
    root        TEXT NOT NULL,
    created_at  REAL NOT NULL,
    file_count  INTEGER NOT NULL,
    total_size  INTEGER NOT NULL
);

CREATE TABLE snapshot_files (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    path         TEXT NOT NULL,     -- relative, '/'-separated
    hash         TEXT,              -- NULL for symlinks
    size         INTEGER NOT NULL,
    mode         INTEGER NOT NULL,
    link         TEXT,              -- symlink target, as recorded
    PRIMARY KEY (snapshot_id, path)
) WITHOUT ROWID;
CREATE INDEX snapshot_files_by_hash ON snapshot_files(hash);
"""

# v2: filters on a metric (``metrics.val_loss<0.3``) read the summary by metric
# instead of scanning every run's summary rows.
_V2 = """
CREATE INDEX summary_by_key ON metric_summary(key_id, last, min, max, count);
"""

MIGRATIONS: list[str] = [_V1, _V2]
SCHEMA_VERSION = len(MIGRATIONS)

# Indexes added since, without a new schema version: an older runtui reads and
# writes a store that has them (SQLite keeps every index current), so adding
# one must not lock it out. Each is (its name, the statements that make it),
# run by a writable open when the index is missing.
EXTRA_INDEXES: list[tuple[str, str]] = [
    (  # ``params_by_key`` with ``kind``: ``runtui ls`` reads the index alone
        "params_by_key_kind",
        """
DROP INDEX IF EXISTS params_by_key;
CREATE INDEX params_by_key_kind ON params(key, value, kind);
""",
    ),
]


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def check_version(conn: sqlite3.Connection) -> int:
    """Return the store's schema version, refusing one newer than this runtui."""
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreVersionError(
            f"this store was written by a newer runtui (schema {version}, this runtui "
            f"reads up to {SCHEMA_VERSION}); upgrade runtui: pip install -U runtui"
        )
    return version


def _statements(script: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit our transaction)."""
    out, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending)
            pending = ""
    return out


def _missing_indexes(conn: sqlite3.Connection) -> list[str]:
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    return [script for name, script in EXTRA_INDEXES if name not in names]


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema up to `SCHEMA_VERSION`, and add any missing `EXTRA_INDEXES`,
    in one immediate transaction."""
    if check_version(conn) == SCHEMA_VERSION and not _missing_indexes(conn):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = check_version(conn)  # another process may have migrated meanwhile
        for step in [*MIGRATIONS[version:], *_missing_indexes(conn)]:
            for statement in _statements(step):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
