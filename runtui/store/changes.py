"""Incremental reads for live views: what is new since the last look.

The live feed (`runtui.live`) keeps a small amount of state (the highest run
row id seen, a fingerprint per running run, the last step seen per watched
metric) and asks here only for what lies beyond it. Every query is bounded
by that state: new runs are ``id > last``, changed runs are looked for only
among running runs (partial index ``runs_running``) plus those that were
running at the last look, new points are ``step > last`` on the metrics
primary key.

A run's fingerprint is (status, heartbeat_at, ended_at, exit_code, total
point count). The logger updates ``heartbeat_at`` in every batch it writes,
and the point count catches writers that do not, so any write to a running
run changes its fingerprint without comparing params, tags or summaries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from typing import Any

from runtui.store.reader import _RUN_COLUMNS, Store, _chunks
from runtui.store.records import RunRecord

Fingerprint = tuple[Any, ...]

_NO_STEP = -(2**63)  # below any stored step: "every point"


def run_totals(conn: sqlite3.Connection) -> tuple[int, int]:
    """(number of runs, highest run row id); both cheap with the primary key."""
    count, top = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM runs").fetchone()
    return count, top


def run_ids(conn: sqlite3.Connection) -> dict[int, str]:
    """Every run's row id and uuid (for noticing deleted runs)."""
    return dict(conn.execute("SELECT id, uuid FROM runs"))


def runs_after(store: Store, after_id: int) -> list[RunRecord]:
    """Runs whose row id is above ``after_id``: the ones created since the last look."""
    rows = store.conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id "
        "WHERE r.id > ? ORDER BY r.id",
        (after_id,),
    ).fetchall()
    return store._records(rows)


def runs_by_ids(store: Store, ids: Iterable[int]) -> list[RunRecord]:
    """Full records (params, tags, summaries) of the given runs, in row id order."""
    rows: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(set(ids)), 900):
        rows.extend(
            store.conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                f"WHERE r.id IN ({','.join('?' * len(chunk))}) ORDER BY r.id",
                chunk,
            )
        )
    return store._records(rows)


_FINGERPRINT = (
    "SELECT r.id, r.status, r.heartbeat_at, r.ended_at, r.exit_code, "
    "(SELECT coalesce(sum(s.count), 0) FROM metric_summary s WHERE s.run_id = r.id) "
    "FROM runs r WHERE "
)


def live_fingerprints(
    conn: sqlite3.Connection, also: Collection[int] = ()
) -> dict[int, Fingerprint]:
    """Fingerprints of running runs and of the runs in ``also`` (running at the last look)."""
    out = {row[0]: row[1:] for row in conn.execute(_FINGERPRINT + "r.status = 'running'")}
    missing = [i for i in also if i not in out]
    for chunk in _chunks(missing, 900):
        sql = _FINGERPRINT + f"r.id IN ({','.join('?' * len(chunk))})"
        out.update((row[0], row[1:]) for row in conn.execute(sql, chunk))
    return out


def run_ref(conn: sqlite3.Connection, uuid: str) -> tuple[int, float] | None:
    """(row id, started_at) of the run with this uuid, or None if it is not (yet) stored."""
    row = conn.execute("SELECT id, started_at FROM runs WHERE uuid = ?", (uuid,)).fetchone()
    return None if row is None else (row[0], row[1])


def metric_last_steps(conn: sqlite3.Connection, run_id: int) -> dict[str, int]:
    """Each metric of a run and its highest step, from the summaries (no point is read)."""
    return dict(
        conn.execute(
            "SELECT k.name, s.last_step FROM metric_summary s "
            "JOIN metric_keys k ON k.id = s.key_id WHERE s.run_id = ?",
            (run_id,),
        )
    )


def points_after(
    conn: sqlite3.Connection, run_id: int, started_at: float, name: str, after_step: int | None
) -> list[tuple[int, float, float]]:
    """Points of one metric with a step above ``after_step`` (all when None), in step order.

    Same shape as `Store.history`: (step, unix timestamp, value), NaN for NULL.
    """
    rows = conn.execute(
        "SELECT m.step, m.t, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id "
        "WHERE k.name = ? AND m.run_id = ? AND m.step > ? ORDER BY m.step",
        (name, run_id, _NO_STEP if after_step is None else after_step),
    ).fetchall()
    nan = float("nan")
    return [(s, started_at + t / 1000.0, nan if v is None else v) for s, t, v in rows]
