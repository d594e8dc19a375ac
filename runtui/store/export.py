"""The SQL behind ``runtui ls`` and ``runtui export``: flat rows, streamed.

Listing or exporting 10,000 runs must not build 10,000 `RunRecord` objects
with their sparkline downsamples (seconds of JSON parsing nobody reads), so
these queries fetch exactly the columns a table or a file needs, a few
queries in all, whatever the number of runs: the runs, then their params,
tags and metric last values through one ``IN (selection)`` each.

Metric points are never collected: `metric_point_cells` returns a cursor
over one metric of one run in step order (a range of the ``metrics``
primary key, no sort), a NaN (stored as NULL) already replaced by the
caller's token. The run and metric cells are the same on every line of a
metric, so they are left to the caller too.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from runtui.store.writer import decode_param

if TYPE_CHECKING:
    from runtui.store.reader import Store


@dataclass(frozen=True)
class Selection:
    """Runs chosen by ``--experiment`` and ``--filter``, as an SQL condition on ``r``/``e``."""

    where: str
    args: tuple[Any, ...]

    def of_runs(self, column: str) -> tuple[str, tuple[Any, ...]]:
        """`` AND <column> IN (the selected run ids)``, or nothing when every run is selected.

        Leaving the condition out for "all runs" saves a lookup per row.
        """
        if self.where == "1" and not self.args:
            return "", ()
        return (
            f" AND {column} IN (SELECT r.id FROM runs r "
            f"JOIN experiments e ON e.id = r.experiment_id WHERE {self.where})",
            self.args,
        )


class RunRow(NamedTuple):
    """The plain columns of one run, as stored (times are unix seconds).

    A named tuple: listing 10,000 runs builds 10,000 of them.
    """

    row_id: int
    uuid: str
    name: str
    experiment: str
    status: str
    started_at: float
    ended_at: float | None


@contextlib.contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Every query inside sees the store as it was at the first one (one read transaction).

    An export reads in many queries; without this, points logged meanwhile
    would appear for some metrics and not others.
    """
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def select_runs(store: Store, filter: str | None, experiment: str | None) -> Selection:
    """The selection for a filter (query language) and/or an experiment name.

    Raises `QueryError` for a bad filter, before any row is read.
    """
    where, args = store._where(filter, experiment)
    return Selection(where, tuple(args))


def run_rows(conn: sqlite3.Connection, selection: Selection, *, newest_first: bool) -> list[RunRow]:
    order = "DESC" if newest_first else "ASC"
    rows = conn.execute(
        "SELECT r.id, r.uuid, r.name, e.name, r.status, r.started_at, r.ended_at "
        "FROM runs r JOIN experiments e ON e.id = r.experiment_id "
        f"WHERE {selection.where} ORDER BY r.started_at {order}, r.id {order}",
        selection.args,
    ).fetchall()
    return list(map(RunRow._make, rows))


def _only(keys: list[str] | None, column: str) -> tuple[str, tuple[Any, ...]]:
    if keys is None:
        return "", ()
    return f" AND {column} IN ({','.join('?' * len(keys))})", tuple(keys)


def params_by_run(
    conn: sqlite3.Connection, selection: Selection, keys: list[str] | None = None
) -> dict[int, dict[str, Any]]:
    """Decoded params of the selected runs (only ``keys`` if given), keys in name order."""
    of_runs, run_args = selection.of_runs("run_id")
    only, only_args = _only(keys, "key")
    out: dict[int, dict[str, Any]] = {}
    sql = f"SELECT run_id, key, value, kind FROM params WHERE 1{of_runs}{only} ORDER BY run_id, key"
    for run_id, key, value, kind in conn.execute(sql, run_args + only_args):
        if kind != "str" and kind != "int":  # those two are stored as they are read
            value = decode_param(value, kind)
        out.setdefault(run_id, {})[key] = value
    return out


def varying_param_keys(conn: sqlite3.Connection, selection: Selection, runs: int) -> list[str]:
    """Param keys whose value differs between the selected runs (absent counts as a value).

    ``runs`` is how many runs are selected. Values of different kinds differ
    (``1`` and ``true``), as they are shown differently.
    """
    of_runs, run_args = selection.of_runs("run_id")
    sql = (
        f"SELECT key FROM params WHERE 1{of_runs} GROUP BY key "
        "HAVING count(*) < ? OR count(value) NOT IN (0, count(*)) "
        "OR min(value) IS NOT max(value) OR min(kind) IS NOT max(kind) ORDER BY key"
    )
    return [row[0] for row in conn.execute(sql, (*run_args, runs))]


def tags_by_run(conn: sqlite3.Connection, selection: Selection) -> dict[int, dict[str, str]]:
    of_runs, run_args = selection.of_runs("run_id")
    out: dict[int, dict[str, str]] = {}
    sql = f"SELECT run_id, key, value FROM tags WHERE 1{of_runs} ORDER BY run_id, key"
    for run_id, key, value in conn.execute(sql, run_args):
        out.setdefault(run_id, {})[key] = value
    return out


def metric_run_counts(conn: sqlite3.Connection, selection: Selection) -> dict[str, int]:
    """Each metric name → how many of the selected runs have it."""
    of_runs, run_args = selection.of_runs("s.run_id")
    sql = (
        "SELECT k.name, n FROM (SELECT s.key_id, count(*) AS n FROM metric_summary s "
        f"WHERE 1{of_runs} GROUP BY s.key_id) JOIN metric_keys k ON k.id = key_id"
    )
    return dict(conn.execute(sql, run_args).fetchall())


def last_values_by_run(
    conn: sqlite3.Connection, selection: Selection, names: list[str] | None = None
) -> dict[int, dict[str, float | None]]:
    """Each selected run's metrics (only ``names`` if given) → last value, None for NaN.

    Metric names are looked up once, not joined per row.
    """
    only, only_args = _only(names, "name")
    key_names = dict(conn.execute(f"SELECT id, name FROM metric_keys WHERE 1{only}", only_args))
    if not key_names:
        return {}
    of_runs, run_args = selection.of_runs("run_id")
    ids = ",".join(map(str, key_names))  # integers from the database, not user text
    out: dict[int, dict[str, float | None]] = {}
    sql = f"SELECT run_id, key_id, last FROM metric_summary WHERE key_id IN ({ids}){of_runs}"
    for run_id, key_id, last in conn.execute(sql, run_args):
        out.setdefault(run_id, {})[key_names[key_id]] = last
    return out


@dataclass(frozen=True)
class Series:
    """One metric of one run: where its points are and how many there are."""

    run_id: int
    key_id: int
    name: str
    count: int


def series_of_run(conn: sqlite3.Connection, run_id: int) -> list[Series]:
    rows = conn.execute(
        "SELECT s.run_id, s.key_id, k.name, s.count FROM metric_summary s "
        "JOIN metric_keys k ON k.id = s.key_id WHERE s.run_id = ? ORDER BY k.name",
        (run_id,),
    ).fetchall()
    return [Series(*row) for row in rows]


def point_count(conn: sqlite3.Connection, selection: Selection) -> int:
    """How many points the selected runs hold (from the summaries: no scan of points)."""
    of_runs, run_args = selection.of_runs("run_id")
    sql = f"SELECT coalesce(sum(count), 0) FROM metric_summary WHERE 1{of_runs}"
    return conn.execute(sql, run_args).fetchone()[0]


_CELLS = (
    "SELECT step, (:base + t) / 60000, (:base + t) % 60000, coalesce(value, :nan) "
    "FROM metrics WHERE run_id = :run AND key_id = :key ORDER BY step"
)


def metric_point_cells(
    conn: sqlite3.Connection, series: Series, *, started_ms: int, nan: Any
) -> Iterator[tuple[int, int, int, Any]]:
    """A cursor over ``(step, minute, ms within the minute, value)`` in step order.

    The time of a point is ``started_ms + t`` (ms since the epoch), split
    by SQLite's integer arithmetic into the minute and the millisecond
    within it: the caller turns each into text through a table made once
    per distinct value, far cheaper than ``strftime`` on every point.
    ``nan`` replaces a NaN (stored as NULL); ±inf come back as floats.
    """
    return conn.execute(
        _CELLS, {"base": started_ms, "nan": nan, "run": series.run_id, "key": series.key_id}
    )
