"""Every write runtui makes to ``runtui.db``, as plain functions over a connection.

Callers wrap them in `connection.write_transaction` so each batch is one
``BEGIN IMMEDIATE`` transaction. The logging hot path reaches SQLite through
`write_points`, which hands whole columns to ``executemany`` (no per-point
Python work beyond what zip does).
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from runtui.store.summary import BatchSummary, SparkBuckets

RUN_FIELDS = (
    "uuid", "name", "status", "started_at", "heartbeat_at", "command", "cwd", "host",
    "user", "pid", "pid_started", "python", "git_commit", "git_branch", "git_dirty",
    "git_diff", "parent_uuid", "notes", "env", "snapshot_id",
)  # fmt: skip


def encode_param(value: Any) -> tuple[Any, str]:
    """(stored value, kind): numbers stay numbers so filters compare numerically."""
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (str, bytes)):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()  # numpy / torch scalars
    if value is None:
        return None, "null"
    if isinstance(value, bool):
        return int(value), "bool"
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return value, "int"
        return json.dumps(value), "json"  # beyond SQLite's integers: exact, as JSON text
    if isinstance(value, float):
        return value, "float"
    if isinstance(value, str):
        return value, "str"
    return json.dumps(value, default=str, sort_keys=True), "json"


def decode_param(value: Any, kind: str) -> Any:
    if kind == "bool":
        return bool(value)
    if kind == "float":
        return math.nan if value is None else float(value)
    if kind == "int":
        return int(value)
    if kind == "json":
        return json.loads(value)
    return value


def ensure_experiment(conn: sqlite3.Connection, name: str) -> int:
    conn.execute(
        "INSERT OR IGNORE INTO experiments(name, created_at) VALUES (?, ?)", (name, time.time())
    )
    return conn.execute("SELECT id FROM experiments WHERE name = ?", (name,)).fetchone()[0]


def insert_run(conn: sqlite3.Connection, experiment: str, fields: Mapping[str, Any]) -> int:
    """Insert a run (idempotent on uuid) and return its row id."""
    experiment_id = ensure_experiment(conn, experiment)
    names = [f for f in RUN_FIELDS if f in fields]
    values = [_json_field(f, fields[f]) for f in names]
    conn.execute(
        f"INSERT OR IGNORE INTO runs(experiment_id, {', '.join(names)}) "
        f"VALUES (?, {', '.join('?' * len(names))})",
        [experiment_id, *values],
    )
    return run_row_id(conn, fields["uuid"])


def _json_field(name: str, value: Any) -> Any:
    if name in ("command", "env") and value is not None and not isinstance(value, str):
        return json.dumps(value)
    if name == "git_dirty" and value is not None:
        return int(bool(value))
    return value


def run_row_id(conn: sqlite3.Connection, uuid: str) -> int:
    row = conn.execute("SELECT id FROM runs WHERE uuid = ?", (uuid,)).fetchone()
    if row is None:
        raise LookupError(uuid)
    return row[0]


def update_run(conn: sqlite3.Connection, run_id: int, **fields: Any) -> None:
    if not fields:
        return
    sets = ", ".join(f"{k} = ?" for k in fields)
    conn.execute(
        f"UPDATE runs SET {sets} WHERE id = ?",
        [*(_json_field(k, v) for k, v in fields.items()), run_id],
    )


def finish_run(
    conn: sqlite3.Connection,
    run_id: int,
    status: str,
    *,
    ended_at: float,
    exit_code: int | None = None,
    error: str | None = None,
) -> None:
    """Set a final status; an error already recorded is kept if none is given."""
    conn.execute(
        "UPDATE runs SET status = ?, ended_at = ?, heartbeat_at = ?, "
        "exit_code = coalesce(?, exit_code), error = coalesce(?, error) WHERE id = ?",
        (status, ended_at, ended_at, exit_code, error, run_id),
    )


def write_params(conn: sqlite3.Connection, run_id: int, params: Mapping[str, Any]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO params(run_id, key, value, kind) VALUES (?, ?, ?, ?)",
        [(run_id, k, *encode_param(v)) for k, v in params.items()],
    )


def write_tags(conn: sqlite3.Connection, run_id: int, tags: Mapping[str, str]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO tags(run_id, key, value) VALUES (?, ?, ?)",
        [(run_id, k, v) for k, v in tags.items()],
    )


def intern_metric_keys(conn: sqlite3.Connection, names: Iterable[str]) -> dict[str, int]:
    names = list(names)
    conn.executemany("INSERT OR IGNORE INTO metric_keys(name) VALUES (?)", [(n,) for n in names])
    ids: dict[str, int] = {}
    for name in names:
        ids[name] = conn.execute("SELECT id FROM metric_keys WHERE name = ?", (name,)).fetchone()[0]
    return ids


@dataclass
class Column:
    """One metric's buffered points: parallel lists, as the logger appends them."""

    steps: list[int]
    ts: list[int]
    values: list[float]


def _summary_state(conn: sqlite3.Connection, run_id: int, key_id: int) -> tuple[int | None, str]:
    row = conn.execute(
        "SELECT last_step, spark FROM metric_summary WHERE run_id = ? AND key_id = ?",
        (run_id, key_id),
    ).fetchone()
    return (row[0], row[1]) if row else (None, "")


_UPSERT_SUMMARY = """
INSERT INTO metric_summary(
    run_id, key_id, count, first_step, last_step, last, last_t, min, max, spark)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(run_id, key_id) DO UPDATE SET
    count = count + excluded.count,
    first_step = min(first_step, excluded.first_step),
    last = CASE WHEN excluded.last_step >= last_step THEN excluded.last ELSE last END,
    last_t = CASE WHEN excluded.last_step >= last_step THEN excluded.last_t ELSE last_t END,
    last_step = max(last_step, excluded.last_step),
    min = min(coalesce(min, excluded.min), coalesce(excluded.min, min)),
    max = max(coalesce(max, excluded.max), coalesce(excluded.max, max)),
    spark = excluded.spark
"""

_REBUILD_SUMMARY = """
INSERT OR REPLACE INTO metric_summary(
    run_id, key_id, count, first_step, last_step, last, last_t, min, max, spark)
SELECT ?1, ?2, count(*), min(step), max(step),
    (SELECT value FROM metrics WHERE run_id = ?1 AND key_id = ?2 ORDER BY step DESC LIMIT 1),
    (SELECT t FROM metrics WHERE run_id = ?1 AND key_id = ?2 ORDER BY step DESC LIMIT 1),
    min(value), max(value), ?3
FROM metrics WHERE run_id = ?1 AND key_id = ?2
"""


def write_points(conn: sqlite3.Connection, run_id: int, columns: Mapping[int, Column]) -> None:
    """Insert points for several metrics of one run and bring their summaries up to date.

    A point logged again at a step already stored replaces it. In the usual
    case (new steps only) the summary is updated from the batch alone; when a
    batch re-logs steps (a resumed run), the summary and its downsample are
    recomputed from the stored points of that metric, so they never count a
    replaced point.
    """
    sql = "INSERT OR REPLACE INTO metrics(run_id, key_id, step, t, value) VALUES (?, ?, ?, ?, ?)"
    for key_id, col in columns.items():
        previous_last, spark_json = _summary_state(conn, run_id, key_id)
        conn.executemany(
            sql, zip(repeat(run_id), repeat(key_id), col.steps, col.ts, col.values, strict=False)
        )
        s = BatchSummary.of(col.steps, col.ts, col.values)
        only_new_steps = (previous_last is None or s.first_step > previous_last) and len(
            set(col.steps)
        ) == len(col.steps)
        if not only_new_steps:
            _rebuild_summary(conn, run_id, key_id)
            continue
        spark = SparkBuckets.from_json(spark_json)
        spark.add(col.values)
        conn.execute(
            _UPSERT_SUMMARY,
            (run_id, key_id, s.count, s.first_step, s.last_step, s.last, s.last_t, s.min, s.max,
             spark.to_json()),
        )  # fmt: skip


def _rebuild_summary(conn: sqlite3.Connection, run_id: int, key_id: int) -> None:
    spark = SparkBuckets()
    values = conn.execute(
        "SELECT value FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step",
        (run_id, key_id),
    )
    spark.add([math.nan if v is None else v for (v,) in values])
    conn.execute(_REBUILD_SUMMARY, (run_id, key_id, spark.to_json()))


def heartbeat(conn: sqlite3.Connection, run_id: int, now: float) -> None:
    conn.execute(
        "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'", (now, run_id)
    )


def add_artifact(
    conn: sqlite3.Connection, run_id: int, name: str, digest: str, size: int, now: float
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO artifacts(run_id, name, hash, size, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (run_id, name, digest, size, now),
    )


def _run_exists(conn: sqlite3.Connection, uuid: str, created: set[str]) -> bool:
    if uuid in created:
        return True
    return conn.execute("SELECT 1 FROM runs WHERE uuid = ?", (uuid,)).fetchone() is not None


def mark_crashed(conn: sqlite3.Connection, run_ids: Iterable[int], now: float) -> None:
    """Give runs whose process is gone the status ``crashed``."""
    conn.executemany(
        "UPDATE runs SET status = 'crashed', ended_at = coalesce(heartbeat_at, ?), "
        "error = coalesce(error, 'the process stopped without finishing the run') "
        "WHERE id = ? AND status = 'running'",
        [(now, run_id) for run_id in run_ids],
    )


def apply_ops(
    conn: sqlite3.Connection, ops: list[dict[str, Any]], *, skip_unknown_runs: bool = False
) -> None:
    """Apply logged operations (the spill-file format) inside the caller's transaction.

    With ``skip_unknown_runs`` (replaying a spill), operations on a run that no
    longer exists (removed meanwhile) are dropped instead of failing the rest.
    """
    if skip_unknown_runs:
        known = {op["fields"]["uuid"] for op in ops if op["op"] == "run"}
        ops = [op for op in ops if op["op"] == "run" or _run_exists(conn, op["uuid"], known)]
    run_ids: dict[str, int] = {}

    def run_id(uuid: str) -> int:
        if uuid not in run_ids:
            run_ids[uuid] = run_row_id(conn, uuid)
        return run_ids[uuid]

    for op in ops:
        kind = op["op"]
        if kind == "run":
            run_ids[op["fields"]["uuid"]] = insert_run(conn, op["experiment"], op["fields"])
        elif kind == "params":
            write_params(conn, run_id(op["uuid"]), op["params"])
        elif kind == "tags":
            write_tags(conn, run_id(op["uuid"]), op["tags"])
        elif kind == "points":
            rid = run_id(op["uuid"])
            key_id = intern_metric_keys(conn, [op["key"]])[op["key"]]
            write_points(conn, rid, {key_id: Column(op["steps"], op["ts"], op["values"])})
        elif kind == "finish":
            finish_run(
                conn,
                run_id(op["uuid"]),
                op["status"],
                ended_at=op["ended_at"],
                exit_code=op.get("exit_code"),
                error=op.get("error"),
            )
        elif kind == "artifact":
            add_artifact(
                conn, run_id(op["uuid"]), op["name"], op["hash"], op["size"], op["created_at"]
            )
        elif kind == "update":
            update_run(conn, run_id(op["uuid"]), **op["fields"])
