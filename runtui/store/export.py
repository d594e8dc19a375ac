"""The SQL behind ``runtui ls`` and ``runtui export``: flat rows, streamed.

Listing or exporting 10,000 runs must not build 10,000 `RunRecord` objects
with their sparkline downsamples (seconds of JSON parsing nobody reads), so
these queries fetch exactly the cells a table or a file needs, a few
queries in all, whatever the number of runs: the runs with their params,
tags and metric last values pivoted by SQLite (`run_columns`).

Metric points are never collected: `metric_point_cells` returns a cursor
over a step range of one metric of one run in step order (a range of the
``metrics`` primary key, no sort), NaN (stored as NULL) and infinities
already replaced by the caller's texts. The run and metric cells are the
same on every line of a metric, so they are left to the caller too.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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


class RunFields(NamedTuple):
    """The plain text columns of the runs (their times come as `DERIVED` cells):
    one sequence per column, aligned (10,000 runs build no object per run)."""

    uuid: Sequence[str]
    name: Sequence[str]
    experiment: Sequence[str]
    status: Sequence[str]


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


_RUN_FIELDS = "r.uuid, r.name, e.name, r.status"

# floor() of a number (SQLite's CAST truncates towards zero)
_FLOOR = "(CAST({0} AS INTEGER) - ({0} < CAST({0} AS INTEGER)))"
# A time (unix seconds) as ISO 8601 UTC, rounded to the millisecond as
# `runtui.services.timetext.iso_utc` rounds it (same double arithmetic); NULL
# past the year 9999, which SQLite's dates do not reach.
_ISO_UTC = (  # %f: seconds and exact milliseconds from the whole number of ms given
    "strftime('%Y-%m-%dT%H:%M:%fZ', "
    + _FLOOR.format("({0} * 1000 + 0.5)")
    + " / 1000.0, 'unixepoch')"
)
_NOW = "(julianday('now') - 2440587.5) * 86400.0"
_SECONDS = f"max(0.0, coalesce(r.ended_at, {_NOW}) - r.started_at)"  # to now while running
# Cells SQLite derives from a run's times, in C, a microsecond each, where a
# Python call per run costs several: name -> SQL expression.
DERIVED = {
    "started_iso": _ISO_UTC.format("r.started_at"),
    "ended_iso": _ISO_UTC.format("r.ended_at"),
    "started_local": (  # the minute it is in: whole seconds, as strftime would round 59.9996 up
        f"strftime('%Y-%m-%d %H:%M', {_FLOOR.format('r.started_at')}, 'unixepoch', 'localtime')"
    ),
    "duration_s": _SECONDS,
    "duration_text": (  # 45s, 12m05s, 3h07m, 2d04h
        f"(SELECT CASE WHEN d < 60 THEN d || 's' "
        "WHEN d < 3600 THEN printf('%dm%02ds', d / 60, d % 60) "
        "WHEN d < 86400 THEN printf('%dh%02dm', d / 3600, d % 3600 / 60) "
        f"ELSE printf('%dd%02dh', d / 86400, d % 86400 / 3600) END "
        f"FROM (SELECT CAST({_SECONDS} AS INTEGER) AS d))"
    ),
}


@dataclass
class RunColumns:
    """The selected runs and, aligned with them, one list of cells per asked-for key.

    ``params[k][i]`` is run ``i``'s param ``k`` decoded, ``tags[k][i]`` its
    tag, ``lasts[k][i]`` the last value of its metric ``k`` (NaN for NaN);
    None where the run has no such key. ``derived[name][i]`` is one of its
    `DERIVED` cells (None for a time not recorded).
    """

    runs: RunFields
    derived: dict[str, list[Any]] = field(default_factory=dict)
    params: dict[str, list[Any]] = field(default_factory=dict)
    tags: dict[str, list[str | None]] = field(default_factory=dict)
    lasts: dict[str, list[float | None]] = field(default_factory=dict)


# kind of key -> (its table, the table's key column, the one cell read from it).
# A cell is the stored value, which is what Python reads back for most keys;
# where it is not, the cell is a BLOB (never a stored value): for a param,
# b"kind:value" to decode; for a metric's last value, b"" for NaN (NULL in a
# row that exists). One cell per key, not a value and a kind: 10,000 runs
# come out of SQLite a third faster.
_LOOKUP_TABLES = {
    "params": (
        "params", "key",
        "CASE WHEN {k}.kind IN ('bool', 'json') OR ({k}.kind = 'float' AND {k}.value IS NULL) "
        "THEN CAST({k}.kind || ':' || coalesce({k}.value, '') AS BLOB) ELSE {k}.value END",
    ),
    "tags": ("tags", "key", "{k}.value"),
    "lasts": (
        "metric_summary", "key_id",
        "CASE WHEN {k}.last IS NULL AND {k}.run_id IS NOT NULL THEN X'' ELSE {k}.last END",
    ),
}  # fmt: skip
_LOOKUPS_PER_QUERY = 30  # one join each; SQLite joins at most 64 tables in one SELECT


def run_columns(
    conn: sqlite3.Connection,
    selection: Selection,
    *,
    newest_first: bool,
    params: Sequence[str] = (),
    tags: Sequence[str] = (),
    metrics: Mapping[str, int] | None = None,
    derived: Sequence[str] = (),
) -> RunColumns:
    """The selected runs with the given params, tags and metrics (name → key id),
    and the given `DERIVED` cells.

    Each key is a ``LEFT JOIN`` on its table's primary key, so SQLite hands
    the runs over already pivoted, one cell per key: no dictionary per run
    in Python (10,000 runs x a dozen keys in tens of milliseconds). Past
    `_LOOKUPS_PER_QUERY` keys, the rest come from more queries of the same
    runs in the same order and the same read transaction.
    """
    lookups: list[tuple[str, str, Any]] = [
        *(("params", key, key) for key in params),
        *(("tags", key, key) for key in tags),
        *(("lasts", name, key_id) for name, key_id in (metrics or {}).items()),
    ]
    size = _LOOKUPS_PER_QUERY
    batches = [lookups[i : i + size] for i in range(0, len(lookups), size)] or [[]]
    order = "DESC" if newest_first else "ASC"
    out = RunColumns(RunFields(*[()] * len(RunFields._fields)))
    with read_snapshot(conn):
        for number, batch in enumerate(batches):
            fields = [_RUN_FIELDS, *(DERIVED[name] for name in derived)] if number == 0 else []
            joins, args, width = [], [], 0
            for n, (kind, _, key) in enumerate(batch):
                table, key_column, cell = _LOOKUP_TABLES[kind]
                fields.append(cell.format(k=f"k{n}"))
                joins.append(
                    f"LEFT JOIN {table} k{n} ON k{n}.run_id = r.id AND k{n}.{key_column} = ?"
                )
                args.append(key)
                width += 1
            rows = conn.execute(
                f"SELECT {', '.join(fields)} FROM runs r "
                f"JOIN experiments e ON e.id = r.experiment_id {' '.join(joins)} "
                f"WHERE {selection.where} ORDER BY r.started_at {order}, r.id {order}",
                (*args, *selection.args),
            ).fetchall()
            plain = len(RunFields._fields)
            lead = plain + len(derived) if number == 0 else 0
            columns = list(zip(*rows, strict=True)) or [()] * (lead + width)
            if number == 0:
                out.runs = RunFields._make(columns[:plain])
                for name, column in zip(derived, columns[plain:lead], strict=True):
                    out.derived[name] = list(column)
            for (kind, name, _), cells in zip(batch, columns[lead:], strict=True):
                if kind == "params":
                    out.params[name] = _unmarked(cells, _marked_param)
                elif kind == "tags":
                    out.tags[name] = list(cells)
                else:
                    out.lasts[name] = _unmarked(cells, _marked_nan)
    return out


def _unmarked(cells: Sequence[Any], decode: Callable[[bytes], Any]) -> list[Any]:
    """A column of cells with its BLOB-marked ones decoded (see `_LOOKUP_TABLES`);
    most columns have none, found in one C-level pass."""
    if bytes not in set(map(type, cells)):
        return list(cells)
    return [decode(cell) if type(cell) is bytes else cell for cell in cells]


def _marked_param(cell: bytes) -> Any:
    kind, _, text = cell.decode().partition(":")
    stored = {"bool": int, "json": str}.get(kind, lambda _: None)(text)  # float: NULL (NaN)
    return decode_param(stored, kind)


def _marked_nan(_cell: bytes) -> float:
    return math.nan


def param_keys(conn: sqlite3.Connection, selection: Selection) -> list[str]:
    """The param keys the selected runs have, by name."""
    of_runs, run_args = selection.of_runs("run_id")
    sql = f"SELECT DISTINCT key FROM params WHERE 1{of_runs} ORDER BY key"
    return [row[0] for row in conn.execute(sql, run_args)]


def tag_keys(conn: sqlite3.Connection, selection: Selection) -> list[str]:
    """The tag keys the selected runs have, by name."""
    of_runs, run_args = selection.of_runs("run_id")
    sql = f"SELECT DISTINCT key FROM tags WHERE 1{of_runs} ORDER BY key"
    return [row[0] for row in conn.execute(sql, run_args)]


def metric_keys(conn: sqlite3.Connection, selection: Selection) -> dict[str, tuple[int, int]]:
    """The metrics the selected runs have, by name: name → (key id, how many runs have it)."""
    of_runs, run_args = selection.of_runs("s.run_id")
    sql = (
        "SELECT k.name, k.id, n FROM (SELECT s.key_id, count(*) AS n FROM metric_summary s "
        f"WHERE 1{of_runs} GROUP BY s.key_id) JOIN metric_keys k ON k.id = key_id ORDER BY k.name"
    )
    return {name: (key_id, runs) for name, key_id, runs in conn.execute(sql, run_args)}


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


class SeriesRow(NamedTuple):
    """One metric of one run, as the export reads it: where its points are, how many."""

    run_id: int
    uuid: str
    started_at: float
    live: bool  # the run was running when read
    key_id: int
    name: str
    count: int
    first_step: int
    last_step: int


def metric_series(conn: sqlite3.Connection, selection: Selection) -> list[SeriesRow]:
    """Every metric of the selected runs, runs oldest first, each run's metrics by name.

    From the summaries: one query whatever the number of runs, no scan of points.
    """
    return [
        SeriesRow._make(row)
        for row in conn.execute(
            "SELECT r.id, r.uuid, r.started_at, r.status = 'running', s.key_id, k.name, "
            "s.count, s.first_step, s.last_step FROM runs r "
            "JOIN experiments e ON e.id = r.experiment_id "
            "JOIN metric_summary s ON s.run_id = r.id JOIN metric_keys k ON k.id = s.key_id "
            f"WHERE {selection.where} ORDER BY r.started_at, r.id, k.name",
            selection.args,
        )
    ]


FINGERPRINT_BATCH = 400  # metrics per query: two variables each, well under SQLite's limit


def metric_fingerprints(
    conn: sqlite3.Connection, metrics: Sequence[tuple[int, int]]
) -> list[tuple[Any, ...]]:
    """The fingerprint of each ``(run_id, key_id)``: what changes whenever a
    metric's points do. That is its run (uuid, status, end) and its summary
    (count, steps, last, min, max, downsample), which the writer keeps current
    in the same transaction as the points. Empty when the metric or the run is gone.
    """
    found: dict[tuple[int, int], tuple[Any, ...]] = {}
    wanted = list(dict.fromkeys(metrics))
    for start in range(0, len(wanted), FINGERPRINT_BATCH):
        batch = wanted[start : start + FINGERPRINT_BATCH]
        pairs = ", ".join(["(?, ?)"] * len(batch))
        rows = conn.execute(
            "SELECT s.run_id, s.key_id, r.uuid, r.status, r.ended_at, s.count, s.first_step, "
            "s.last_step, s.last, s.last_t, s.min, s.max, s.spark "
            f"FROM (VALUES {pairs}) v "  # a join, not IN: SQLite then looks each one up
            "JOIN metric_summary s ON s.run_id = v.column1 AND s.key_id = v.column2 "
            "JOIN runs r ON r.id = s.run_id",
            [i for pair in batch for i in pair],
        )
        for run_id, key_id, *row in rows:
            found[run_id, key_id] = (*row[:-1], zlib.crc32(row[-1].encode()))
    return [found.get(metric, ()) for metric in metrics]


def points_between(
    conn: sqlite3.Connection, run_id: int, key_id: int, first: int, last: int
) -> int:
    """How many points a metric holds from step ``first`` to ``last`` (a range of the key)."""
    sql = "SELECT count(*) FROM metrics WHERE run_id = ? AND key_id = ? AND step BETWEEN ? AND ?"
    return conn.execute(sql, (run_id, key_id, first, last)).fetchone()[0]


_CELLS = (
    "SELECT step, (:base + t) / 60000, (:base + t) % 60000, "
    "CASE WHEN value IS NULL THEN :nan WHEN value > 1.7976931348623157e308 THEN :inf "
    "WHEN value < -1.7976931348623157e308 THEN :ninf ELSE value END "
    "FROM metrics WHERE run_id = :run AND key_id = :key AND step BETWEEN :first AND :last "
    "ORDER BY step"
)


def metric_point_cells(
    conn: sqlite3.Connection,
    run_id: int,
    key_id: int,
    steps: tuple[int, int],
    *,
    started_ms: int,
    nonfinite: tuple[str, str, str],
) -> Iterator[tuple[int, int, int, float | str]]:
    """A cursor over ``(step, minute, ms within the minute, value)`` of the points
    from step ``steps[0]`` to ``steps[1]``, in step order.

    The time of a point is ``started_ms + t`` (ms since the epoch), split
    by SQLite's integer arithmetic into the minute and the millisecond
    within it: the caller turns each into text through a table made once
    per distinct value, far cheaper than ``strftime`` on every point.
    A NaN (stored as NULL), +inf and -inf come as the texts in ``nonfinite``.
    """
    first, last = steps
    nan, inf, ninf = nonfinite
    return conn.execute(
        _CELLS,
        {"base": started_ms, "nan": nan, "inf": inf, "ninf": ninf, "run": run_id,
         "key": key_id, "first": first, "last": last},
    )  # fmt: skip
