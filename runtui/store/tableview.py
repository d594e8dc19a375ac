"""Reads behind the TUI's runs table: ordered run ids, pages of records, column choices.

The table never holds every run. It asks once for the ordered list of row ids
of the current view (experiment + filter + sort), which is a single indexed
query returning integers (about 5 ms for 10,000 runs), then fetches full
records only for the rows on screen (`records_by_ids`). Knowing every id's
position keeps the cursor on the same run when the sort changes, and lets a
row be found and refreshed by uuid in place.

Sort keys go beyond `Store.runs`: any param (its stored value, numbers as
numbers) or any metric's last value. Runs without that param or metric sort
last in either direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from runtui.errors import StoreError
from runtui.store.reader import _RUN_COLUMNS, Store, run_selection
from runtui.store.records import RunRecord

SortKind = Literal["run", "param", "metric"]

_RUN_ORDER = {
    "started": "r.started_at",
    "ended": "r.ended_at",
    "name": "r.name COLLATE NOCASE",
    "status": "r.status",
    "id": "r.uuid",
    "experiment": "e.name COLLATE NOCASE",
    "duration": "coalesce(r.ended_at, strftime('%s','now')) - r.started_at",
}


@dataclass(frozen=True)
class SortKey:
    """What the runs table is sorted by: a run field, a param, or a metric's last value."""

    kind: SortKind = "run"
    name: str = "started"

    def __post_init__(self) -> None:
        if self.kind == "run" and self.name not in _RUN_ORDER:
            raise StoreError(f"cannot sort runs by {self.name!r}")


def _order(key: SortKey) -> tuple[str, list[Any]]:
    if key.kind == "run":
        return _RUN_ORDER[key.name], []
    if key.kind == "param":
        return "(SELECT p.value FROM params p WHERE p.run_id = r.id AND p.key = ?)", [key.name]
    return (
        "(SELECT s.last FROM metric_summary s JOIN metric_keys k ON k.id = s.key_id "
        "WHERE s.run_id = r.id AND k.name = ?)",
        [key.name],
    )


def _view(filter: str | None, experiment: str | None) -> tuple[str, str, list[Any]]:
    """(join, where, args) selecting the runs of a view.

    The experiments table is joined only when the filter or the sort needs
    its name: without the join, listing 10,000 runs in start order reads
    the ``runs_by_started`` index alone (7 ms instead of 28 ms).
    """
    where, args = run_selection(filter, experiment)
    join = "JOIN experiments e ON e.id = r.experiment_id " if "e." in where else ""
    return join, where, args


def run_ids(
    store: Store,
    filter: str | None = None,
    experiment: str | None = None,
    sort: SortKey = SortKey(),
    descending: bool = True,
) -> list[int]:
    """Row ids of the matching runs in display order (ties broken by newest row first)."""
    join, where, args = _view(filter, experiment)
    if sort == SortKey("run", "experiment"):
        join = "JOIN experiments e ON e.id = r.experiment_id "
    expr, order_args = _order(sort)
    direction = "DESC" if descending else "ASC"
    if sort.kind == "run" and sort.name != "ended":
        order = f"{expr} {direction}"
    else:  # missing values last whichever the direction
        order = f"({expr}) IS NULL, {expr} {direction}"
        order_args = order_args * 2
    sql = f"SELECT r.id FROM runs r {join}WHERE {where} ORDER BY {order}, r.id {direction}"
    return [row[0] for row in store.conn.execute(sql, [*args, *order_args])]


def records_by_ids(store: Store, ids: Sequence[int]) -> dict[int, RunRecord]:
    """Full records (params, tags, metric summaries) of exactly these runs, by row id."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = store.conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id "
        f"WHERE r.id IN ({marks})",
        list(ids),
    ).fetchall()
    return {record.row_id: record for record in store._records(rows)}


@dataclass(frozen=True)
class KeyStats:
    """How a param or metric key appears across the runs of a view."""

    name: str
    runs: int  # how many runs of the view have it
    distinct: int  # distinct values among those (params only; 0 for metrics)


def _runs_of(filter: str | None, experiment: str | None) -> tuple[str, list[Any]]:
    """A condition on ``run_id`` selecting the runs of a view ("1" for every run)."""
    join, where, args = _view(filter, experiment)
    if where == "1":
        return "1", []
    return f"run_id IN (SELECT r.id FROM runs r {join}WHERE {where})", args


def param_stats(
    store: Store, filter: str | None = None, experiment: str | None = None
) -> list[KeyStats]:
    """Every param key of the view's runs, with how many runs have it and distinct values.

    Reads the ``params_by_key_kind`` index only (about 15 ms for 10,000 runs).
    """
    condition, args = _runs_of(filter, experiment)
    rows = store.conn.execute(
        "SELECT key, count(*), count(DISTINCT value) FROM params "
        f"WHERE {condition} GROUP BY key ORDER BY key",
        args,
    ).fetchall()
    return [KeyStats(*row) for row in rows]


def metric_stats(
    store: Store, filter: str | None = None, experiment: str | None = None
) -> list[KeyStats]:
    """Every metric name of the view's runs, with how many runs logged it.

    Scans the summaries of the view (50-130 ms for 10,000 runs with four
    metrics each): for the column chooser, not for every view change.
    """
    condition, args = _runs_of(filter, experiment)
    rows = store.conn.execute(
        "SELECT k.name, count(*) FROM metric_summary s JOIN metric_keys k ON k.id = s.key_id "
        f"WHERE {condition} GROUP BY k.name ORDER BY k.name",
        args,
    ).fetchall()
    return [KeyStats(name, count, 0) for name, count in rows]


@dataclass(frozen=True)
class RunName:
    """Just enough of a run to find it by name (the command palette's candidates)."""

    row_id: int
    uuid: str
    name: str
    experiment: str
    status: str


def run_names(store: Store) -> list[RunName]:
    """Every run's name and place, newest first: one light query, no params or metrics."""
    rows = store.conn.execute(
        "SELECT r.id, r.uuid, r.name, e.name, r.status FROM runs r "
        "JOIN experiments e ON e.id = r.experiment_id ORDER BY r.started_at DESC, r.id DESC"
    ).fetchall()
    return [RunName(*row) for row in rows]
