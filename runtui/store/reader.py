"""Reading a store: experiments, runs, histories, as `records` dataclasses.

`Store` is what ``runtui.open_store()`` returns and what the TUI and CLI use.
Listing runs costs three queries whatever the number of metrics points
(runs, then params/tags/summaries of exactly those runs), because summaries
are kept by the writer.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from functools import partial
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from runtui import liveness
from runtui.errors import AmbiguousRunError, RunNotFoundError, StoreError
from runtui.store import connection, location, spill, writer
from runtui.store.records import Artifact, Experiment, MetricSummary, RunRecord

_RUN_COLUMNS = (
    "r.id, r.uuid, r.name, e.name, r.status, r.started_at, r.ended_at, r.heartbeat_at, "
    "r.exit_code, r.error, r.command, r.cwd, r.host, r.user, r.pid, r.python, r.git_commit, "
    "r.git_branch, r.git_dirty, r.git_diff IS NOT NULL, r.parent_uuid, r.notes, r.env, "
    "r.snapshot_id, r.pid_started"
)  # the diff itself (megabytes, for a few views) is read by RunRecord.git_diff on first use
SORTABLE = {"started_at", "ended_at", "name", "status", "duration"}
MIN_REF_PREFIX = 4
_AS_STORED = frozenset({"str", "int"})  # param kinds read back as they are stored
MEMO_SIZE = 4096  # decoded JSON columns kept per Store (see Store._decoded)


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


class Store:
    """A store folder opened for reading (and, when allowed, housekeeping)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, writable: bool) -> None:
        self.path = path
        self.conn = conn
        self.writable = writable
        self._memo: dict[tuple[str, str], Any] = {}
        self._metric_name: dict[int, str] = {}  # interned names: an id never changes name

    # -- housekeeping -----------------------------------------------------

    def reap_crashed(self) -> list[str]:
        """Turn ``running`` runs whose process is gone into ``crashed``; return their uuids."""
        rows = self.conn.execute(
            "SELECT id, uuid, host, pid, pid_started, heartbeat_at, started_at FROM runs "
            "WHERE status = 'running'"
        ).fetchall()
        now = time.time()
        here = liveness.hostname()
        dead = [
            (row_id, uuid)
            for row_id, uuid, host, pid, marker, beat, started in rows
            if _is_dead(here, host, pid, marker, beat or started, now)
        ]
        if dead and self.writable:
            connection.write_transaction(
                self.conn, lambda c: writer.mark_crashed(c, [d[0] for d in dead], now)
            )
        return [uuid for _, uuid in dead]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- experiments ------------------------------------------------------

    def experiments(self) -> list[Experiment]:
        rows = self.conn.execute(
            "SELECT e.id, e.name, e.created_at, count(r.id) FROM experiments e "
            "LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id ORDER BY e.name"
        ).fetchall()
        return [Experiment(*row) for row in rows]

    # -- runs -------------------------------------------------------------

    def runs(
        self,
        filter: str | None = None,
        experiment: str | None = None,
        *,
        order_by: str = "started_at",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RunRecord]:
        """Runs of one experiment (or all), optionally filtered with the query language."""
        where, args = self._where(filter, experiment)
        if order_by not in SORTABLE:
            raise StoreError(f"cannot sort runs by {order_by!r}")
        order = (
            "coalesce(r.ended_at, strftime('%s','now')) - r.started_at"
            if order_by == "duration"
            else f"r.{order_by}"
        )
        sql = (
            f"SELECT {_RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id "
            f"WHERE {where} ORDER BY {order} {'DESC' if descending else 'ASC'}, r.id "
            f"{'DESC' if descending else 'ASC'}"
        )
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args = [*args, limit, offset]
        every_run = where == "1" and limit is None
        rows = self.conn.execute(sql, args).fetchall()
        return self._records(rows, every_run=every_run, sparks=False)

    def count_runs(self, filter: str | None = None, experiment: str | None = None) -> int:
        where, args = self._where(filter, experiment)
        return self.conn.execute(
            f"SELECT count(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id "
            f"WHERE {where}",
            args,
        ).fetchone()[0]

    def _where(self, filter: str | None, experiment: str | None) -> tuple[str, list[Any]]:
        return run_selection(filter, experiment)

    def run(self, ref: str) -> RunRecord:
        """A run by uuid, unique uuid prefix / short id, or unique name."""
        ref = ref.strip()
        if not ref:
            raise RunNotFoundError("no run given")
        base = f"SELECT {_RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id "
        rows = self.conn.execute(base + "WHERE r.uuid = ?", (ref,)).fetchall()
        if not rows:
            # a ref may be a short id or a name: when it is both, asking is the only safe answer
            named = self.conn.execute(base + "WHERE r.name = ? LIMIT 10", (ref,)).fetchall()
            prefixed = []
            if len(ref) >= MIN_REF_PREFIX and _is_hex_prefix(ref):
                low = ref.lower()
                prefixed = self.conn.execute(
                    base + "WHERE r.uuid >= ? AND r.uuid < ? LIMIT 10", (low, low + "g")
                ).fetchall()
            rows = named + [row for row in prefixed if row not in named]
        if not rows:
            short = len(ref) < MIN_REF_PREFIX and _is_hex_prefix(ref)
            hint = f" (an id needs at least {MIN_REF_PREFIX} characters)" if short else ""
            raise RunNotFoundError(f"no run matches {ref!r}{hint}")
        if len(rows) > 1:
            ids = ", ".join(row[1][:8] for row in rows[:5])
            raise AmbiguousRunError(f"{ref!r} matches {len(rows)} runs ({ids}); use a longer id")
        return self._records(rows)[0]

    def history(self, run: RunRecord | str, name: str) -> list[tuple[int, float, float]]:
        """All points of one metric: (step, unix timestamp, value), in step order."""
        record = run if isinstance(run, RunRecord) else self.run(run)
        # SQLite does the same double arithmetic Python would (started + t / 1000.0),
        # so the rows come back finished unless a NaN (stored as NULL) needs restoring.
        rows = self.conn.execute(
            "SELECT m.step, ? + m.t / 1000.0, m.value FROM metrics m "
            "JOIN metric_keys k ON k.id = m.key_id "
            "WHERE m.run_id = ? AND k.name = ? ORDER BY m.step",
            (record.started_at, record.row_id, name),
        ).fetchall()
        if None in map(itemgetter(2), rows):  # one C-level pass: NaN is rare
            return [(s, t, _nan(v)) for s, t, v in rows]
        return rows

    def artifacts(self, run: RunRecord) -> list[Artifact]:
        rows = self.conn.execute(
            "SELECT name, hash, size, created_at FROM artifacts WHERE run_id = ? ORDER BY name",
            (run.row_id,),
        ).fetchall()
        return [Artifact(*row) for row in rows]

    def artifact_path(self, artifact: Artifact) -> Path:
        return location.artifacts_dir(self.path) / artifact.hash[:2] / artifact.hash

    def log_path(self, run: RunRecord) -> Path:
        return location.log_path(self.path, run.uuid)

    def param_keys(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT key FROM params ORDER BY key")]

    def metric_keys(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM metric_keys ORDER BY name")]

    def data_version(self) -> int:
        """Changes whenever another connection commits: a cheap "anything new?" check."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    # -- assembling records ------------------------------------------------

    def _records(
        self, rows: Sequence[tuple[Any, ...]], *, every_run: bool = False, sparks: bool = True
    ) -> list[RunRecord]:
        """Records for ``rows`` of `_RUN_COLUMNS`, with params, tags and summaries.

        ``every_run`` says the rows are all the runs of the store: the details
        are then read by scanning their tables instead of looking up each run.
        Without ``sparks``, each summary's downsample (the widest column of a
        summary row, most of its bytes) is read only when asked for.
        """
        if not rows:
            return []
        ids = None if every_run else [row[0] for row in rows]
        params = self._by_run(ids, "run_id", "SELECT run_id, key, value, kind FROM params")
        tags = self._by_run(ids, "run_id", "SELECT run_id, key, value FROM tags")
        # in primary-key order (no sort, no join); names looked up here, listed by name
        summaries = self._by_run(
            ids,
            "run_id",
            "SELECT run_id, key_id, last, min, max, count, first_step, last_step, last_t"
            f"{', spark' if sparks else ''} FROM metric_summary",
        )
        names = self._metric_names(summaries.values())
        now, nan = time.time(), math.nan
        here = liveness.hostname()
        records = []
        for row in rows:
            run_id = row[0]
            status = row[4]
            record = RunRecord(
                id=row[1][:8],
                uuid=row[1],
                name=row[2],
                experiment=row[3],
                status=status,
                started_at=row[5],
                ended_at=row[6],
                heartbeat_at=row[7],
                exit_code=row[8],
                error=row[9],
                command=_fresh(self._decoded("json", row[10])) if row[10] else [],
                cwd=row[11],
                host=row[12],
                user=row[13],
                pid=row[14],
                python=row[15],
                git_commit=row[16],
                git_branch=row[17],
                git_dirty=None if row[18] is None else bool(row[18]),
                _git_diff_reader=partial(self._git_diff, run_id) if row[19] else None,
                parent_uuid=row[20],
                notes=row[21],
                env=_fresh(self._decoded("json", row[22])) if row[22] else {},
                snapshot_id=row[23],
                params={
                    k: v if kind in _AS_STORED else writer.decode_param(v, kind)
                    for _, k, v, kind in params.get(run_id, ())
                },
                tags={k: v for _, k, v in tags.get(run_id, ())},
                summary={
                    names[s[1]]: MetricSummary(
                        names[s[1]],
                        nan if s[2] is None else s[2],
                        nan if s[3] is None else s[3],
                        nan if s[4] is None else s[4],
                        s[5],
                        s[6],
                        s[7],
                        row[5] + s[8] / 1000.0,
                        s[9] if sparks else "",
                        None if sparks else partial(self._spark, run_id, s[1]),
                    )
                    for s in sorted(summaries.get(run_id, ()), key=lambda s: names[s[1]])
                },
                row_id=run_id,
            )
            record._history = self.history
            if status == "running" and not self.writable:
                # a read-only store cannot record the crash: report it all the same
                beat = record.heartbeat_at or record.started_at
                if _is_dead(here, record.host, record.pid, row[24], beat, now):
                    record.status = "crashed"
            records.append(record)
        return records

    def _metric_names(self, groups: Iterable[list[tuple[Any, ...]]]) -> dict[int, str]:
        """Metric key id → name, covering every key id in the second cell of ``groups``' rows.

        Read again only when a key is new to this store object: the ids of
        ``metric_keys`` are never deleted or renamed.
        """
        known = self._metric_name
        if any(row[1] not in known for group in groups for row in group):
            known.update(self.conn.execute("SELECT id, name FROM metric_keys"))
        return known

    def _git_diff(self, run_id: int) -> str | None:
        row = self.conn.execute("SELECT git_diff FROM runs WHERE id = ?", (run_id,)).fetchone()
        return row[0] if row else None

    def _spark(self, run_id: int, key_id: int) -> str:
        row = self.conn.execute(
            "SELECT spark FROM metric_summary WHERE run_id = ? AND key_id = ?", (run_id, key_id)
        ).fetchone()
        return row[0] if row else ""

    def _decoded(self, kind: str, text: str) -> Any:
        """JSON ``text`` decoded, remembered: runs of one sweep share ``env`` and ``command``.

        Callers copy mutable results.
        """
        key = (kind, text)
        value = self._memo.get(key)
        if value is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            value = json.loads(text)
            self._memo[key] = value
        return value

    def _by_run(
        self, ids: list[int] | None, run_column: str, select: str
    ) -> dict[int, list[tuple[Any, ...]]]:
        """Rows of ``select`` for runs ``ids`` (None: every run), grouped by run id.

        ``select`` names the run id first and the key to order by second.
        """
        order = f"ORDER BY {run_column}, 2"
        out: dict[int, list[tuple[Any, ...]]] = {}
        if ids is None:
            queries = [(f"{select} {order}", [])]
        else:
            queries = [
                (f"{select} WHERE {run_column} IN ({','.join('?' * len(c))}) {order}", c)
                for c in _chunks(ids, 900)
            ]
        for sql, args in queries:
            for run_id, group in groupby(self.conn.execute(sql, args), key=itemgetter(0)):
                out[run_id] = list(group)
        return out


def _fresh(value: Any) -> Any:
    """A copy the caller may change without changing the remembered value."""
    return value.copy() if isinstance(value, (dict, list)) else value


def run_selection(filter: str | None, experiment: str | None) -> tuple[str, list[Any]]:
    """(where, args) selecting runs ``r`` of one experiment (or all) that match ``filter``.

    The experiment is matched by id, so the clause needs the experiments
    table (alias ``e``) only when the filter itself names it.
    """
    clauses, args = ["1"], []
    if experiment is not None:
        clauses.append("r.experiment_id = (SELECT id FROM experiments WHERE name = ?)")
        args.append(experiment)
    if filter is not None and filter.strip():
        from runtui.query import compile_filter

        sql, filter_args = compile_filter(filter)
        clauses.append(f"({sql})")
        args.extend(filter_args)
    return " AND ".join(clauses), args


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _is_hex_prefix(ref: str) -> bool:
    return all(c in "0123456789abcdef-" for c in ref.lower())


def _is_dead(
    here: str, host: str | None, pid: int | None, marker: str | None, beat: float, now: float
) -> bool:
    if host == here and pid:
        return not liveness.owner_alive(pid, marker)
    return now - beat > liveness.STALE_AFTER_S


def _check_not_emptied(folder: Path, db: Path) -> None:
    """Refuse a database emptied to 0 bytes beside the logs of its runs: the runs'
    records are gone, and opening it would quietly make it a new, empty store."""
    if db.stat().st_size:
        return
    logs = folder / location.LOGS_DIRNAME
    if logs.is_dir() and any(logs.iterdir()):
        raise StoreError(
            f"the store's database {db} is empty (0 bytes) but {logs} holds run logs: "
            "its records were lost; move the folder away to start a new store"
        )


def open_store(path: str | os.PathLike[str] | None = None, *, readonly: bool = False) -> Store:
    """Open an existing store for reading (see `location.resolve_store_path`).

    Opened writable when the folder allows it, so that an older schema is
    migrated, points spilled by a training script that could not write are
    merged back, and runs whose process died are marked ``crashed``.
    """
    folder = location.resolve_store_path(path)
    db = location.db_path(folder)
    if not db.exists():
        if folder.exists() and not folder.is_dir():
            raise StoreError(f"{folder} is not a runtui store folder")
        raise StoreError(f"no runtui store at {folder} (log a run, or try `runtui demo`)")
    _check_not_emptied(folder, db)
    writable = not readonly and os.access(folder, os.W_OK) and os.access(db, os.W_OK)
    conn = connection.connect(folder, readonly=not writable)
    store = Store(folder, conn, writable)
    if writable:
        try:
            spill.merge_all(folder, conn)
            store.reap_crashed()
        except (sqlite3.OperationalError, OSError):
            pass  # busy or read-only after all: reading still works
    return store
