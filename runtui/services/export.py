"""Rows for ``runtui ls``, ``runtui export`` and ``runtui show``, with no UI and no SQL.

A `Table` is column names plus an iterator of row chunks, produced lazily so
an export of ten million points streams from SQLite cursors to the output
file without ever holding more than one chunk. Cell values are plain Python:
``None`` for "absent", ``float('nan')`` and ``±inf`` for those values, text
as recorded. How each format writes them (and neutralises spreadsheet
formulas) is the writer's business (`runtui.cli.output`); the one exception
is the metrics export, ten million rows that must go out at a million a
second: there the writer hands over a line format per metric, non-finite
values are replaced by their text before the points leave SQLite,
timestamps are made once per distinct minute and millisecond, and the lines
are made by several processes at once (`metrics_lines`, and
`runtui.services.metrics_text` for how).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any

from runtui.services import metrics_text
from runtui.services.timetext import iso_utc
from runtui.store import export as sql

if TYPE_CHECKING:
    from runtui.store.reader import Store
    from runtui.store.records import Artifact, RunRecord

RUN_COLUMNS = ("id", "uuid", "name", "experiment", "status", "started_at", "ended_at", "duration_s")
METRIC_COLUMNS = ("run", "key", "step", "timestamp", "value")
LS_METRICS = 3


@dataclass
class Table:
    """Column names and the body, produced lazily.

    Each of ``chunks`` holds some rows as one sequence per column, aligned
    (writers work a column at a time). ``text``, when set, follows them: rows
    already rendered as ``(row count, text)`` pieces in the writer's own line
    format (`runtui.cli.output.metric_line`; in JSON each line comes after
    its ``,`` separator, which the writer drops before the first).
    """

    columns: list[str]
    chunks: Iterator[list[Sequence[Any]]]
    total: int
    text: Iterator[tuple[int, str]] | None = None


def short_id(uuid: str) -> str:
    return uuid[:8]


def _to_the_millisecond(seconds: list[float]) -> list[float]:
    return list(map(round, seconds, repeat(3)))


def _settled(store: Store, runs: sql.RunFields) -> sql.RunFields:
    """The runs with a dead ``running`` run shown as the reader shows it (``crashed``).

    Opening a writable store already marked such runs; a read-only one cannot,
    so the few running rows are judged through `Store.run`.
    """
    if store.writable or "running" not in runs.status:
        return runs
    return runs._replace(
        status=[
            store.run(uuid).status if status == "running" else status
            for uuid, status in zip(runs.uuid, runs.status, strict=True)
        ]
    )


def runs_table(store: Store, filter: str | None, experiment: str | None) -> Table:
    """``export --what runs``: one row per run, oldest first, the contract's columns."""
    selection = sql.select_runs(store, filter, experiment)
    conn = store.conn
    with sql.read_snapshot(conn):
        data = sql.run_columns(
            conn,
            selection,
            newest_first=False,
            params=sql.param_keys(conn, selection),
            tags=sql.tag_keys(conn, selection),
            metrics={
                name: key_id for name, (key_id, _) in sql.metric_keys(conn, selection).items()
            },
            derived=("started_iso", "ended_iso", "duration_s"),
        )
    runs = _settled(store, data.runs)
    columns = [
        *RUN_COLUMNS,
        *(f"params.{k}" for k in data.params),
        *(f"tags.{k}" for k in data.tags),
        *(f"metrics.{k}" for k in data.lasts),
    ]
    values = [
        list(map(short_id, runs.uuid)),
        runs.uuid,
        runs.name,
        runs.experiment,
        runs.status,
        data.derived["started_iso"],
        data.derived["ended_iso"],
        _to_the_millisecond(data.derived["duration_s"]),
        *data.params.values(),
        *data.tags.values(),
        *data.lasts.values(),
    ]
    return Table(columns, iter([values]), len(runs.uuid))


@contextlib.contextmanager
def metrics_lines(
    store: Store,
    filter: str | None,
    experiment: str | None,
    *,
    line_of: Callable[[str, str], str],
    nonfinite: tuple[str, str, str],
    jobs: int | None = None,
) -> Iterator[Table]:
    """``export --what metrics``: one line per point, runs oldest first, metrics by name.

    ``line_of(run, key)`` is the line format of a metric's points (a ``%``
    format with four ``%s``: step, the two halves of the timestamp, value);
    ``nonfinite`` the texts written for a NaN, +inf and -inf value. The lines
    are made by ``jobs`` processes (default: one per CPU for a big export;
    see `runtui.services.metrics_text`), which stop when the block is left.
    """
    # The workers stop before the snapshot ends: the parent formats inside it
    # whatever they hand back.
    with sql.read_snapshot(store.conn):
        selection = sql.select_runs(store, filter, experiment)
        tasks = metrics_text.plan(store.conn, selection, line_of)
        total = sum(task.points for task in tasks)
        workers = metrics_text.worker_count(total, jobs)
        with metrics_text.worker_pool(store.path, workers) as pool:
            text = metrics_text.texts(store.conn, tasks, nonfinite, pool, workers)
            yield Table(list(METRIC_COLUMNS), iter(()), total, text=text)


@dataclass
class Listing:
    """``runtui ls``: runs newest first, the params that differ between them, a few metrics.

    With ``local_times`` (the table's), start times are local minutes and
    durations texts (``12m05s``); otherwise ISO 8601 UTC and seconds.
    """

    data: sql.RunColumns
    local_times: bool

    @property
    def param_keys(self) -> list[str]:
        return list(self.data.params)

    @property
    def metric_keys(self) -> list[str]:
        return list(self.data.lasts)

    @property
    def columns(self) -> list[str]:
        return [
            "id", "name", "experiment", "status", "started", "duration",
            *(f"params.{k}" for k in self.data.params),
            *(f"metrics.{k}" for k in self.data.lasts),
        ]  # fmt: skip

    def column_values(self) -> list[list[Any]]:
        """One list per column, in `columns` order, built column by column, as
        10,000 runs need."""
        runs, derived = self.data.runs, self.data.derived
        local = self.local_times
        return [
            list(map(short_id, runs.uuid)),
            list(runs.name),
            list(runs.experiment),
            list(runs.status),
            derived["started_local" if local else "started_iso"],
            derived["duration_text"] if local else _to_the_millisecond(derived["duration_s"]),
            *self.data.params.values(),
            *self.data.lasts.values(),
        ]

    def table(self) -> Table:
        """The listing for a writer."""
        return Table(self.columns, iter([self.column_values()]), len(self.data.runs.uuid))


def listing(
    store: Store, filter: str | None, experiment: str | None, *, local_times: bool = False
) -> Listing:
    """The runs ``runtui ls`` shows (see `Listing` for ``local_times``)."""
    derived = ("started_local", "duration_text") if local_times else ("started_iso", "duration_s")
    selection = sql.select_runs(store, filter, experiment)
    conn = store.conn
    with sql.read_snapshot(conn):
        runs = store.count_runs(filter, experiment)
        metrics = sql.metric_keys(conn, selection)
        shown = common_metrics({name: n for name, (_, n) in metrics.items()}, LS_METRICS)
        data = sql.run_columns(
            conn,
            selection,
            newest_first=True,
            params=sql.varying_param_keys(conn, selection, runs),
            metrics={name: metrics[name][0] for name in shown},
            derived=derived,
        )
    data.runs = _settled(store, data.runs)
    return Listing(data, local_times)


def common_metrics(run_counts: dict[str, int], limit: int) -> list[str]:
    """The metrics most runs have (system metrics last), at most ``limit``, by name."""
    ranked = sorted(run_counts, key=lambda n: (n.startswith("sys/"), -run_counts[n], n))
    return sorted(ranked[:limit])


def run_document(store: Store, run: RunRecord) -> dict[str, Any]:
    """Everything recorded about a run, as plain JSON-able values (times ISO 8601 UTC)."""
    artifacts: list[Artifact] = store.artifacts(run)
    return {
        "id": run.id,
        "uuid": run.uuid,
        "name": run.name,
        "experiment": run.experiment,
        "status": run.status,
        "started_at": iso_utc(run.started_at),
        "ended_at": iso_utc(run.ended_at),
        "heartbeat_at": iso_utc(run.heartbeat_at),
        "duration_s": run.duration,
        "exit_code": run.exit_code,
        "error": run.error,
        "params": dict(run.params),
        "tags": dict(run.tags),
        "metrics": {
            name: {
                "last": s.last,
                "min": s.min,
                "max": s.max,
                "count": s.count,
                "first_step": s.first_step,
                "last_step": s.last_step,
                "last_time": iso_utc(s.last_time),
            }
            for name, s in run.summary.items()
        },
        "command": list(run.command),
        "cwd": run.cwd,
        "host": run.host,
        "user": run.user,
        "pid": run.pid,
        "python": run.python,
        "git": {
            "commit": run.git_commit,
            "branch": run.git_branch,
            "dirty": run.git_dirty,
            "diff": run.git_diff,
        },
        "parent_uuid": run.parent_uuid,
        "notes": run.notes,
        "env": dict(run.env),
        "snapshot_id": run.snapshot_id,
        "snapshot": _snapshot_summary(store, run.snapshot_id),
        "artifacts": [
            {
                "name": a.name,
                "size": a.size,
                "hash": a.hash,
                "created_at": iso_utc(a.created_at),
                "path": str(store.artifact_path(a)),
            }
            for a in artifacts
        ],
        "log": str(store.log_path(run)),
    }


def _snapshot_summary(store: Store, snapshot_id: int | None) -> dict[str, Any] | None:
    """The code snapshot's size. (Not its folder: runs with the same code share a
    snapshot, which keeps the folder of the first of them.)"""
    from runtui.store.snapshots import snapshot_info

    info = None if snapshot_id is None else snapshot_info(store.conn, snapshot_id)
    if info is None:
        return None
    return {"files": info.file_count, "bytes": info.total_size}
