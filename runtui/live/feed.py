"""The live change feed: what is new in a store since the last look.

`ChangeFeed.check` turns "something may have changed" into a `Changes`
value by incremental reads (`store.changes`): runs created since the highest
row id seen, running runs whose fingerprint moved (status, heartbeat, end,
point count), points above the last step seen of the watched metrics, and
bytes appended to the followed logs. `ChangeFeed.run` drives it from a
`StoreWatcher` in one thread and hands every non-empty `Changes` to a
callback; it knows nothing of any UI.

Idle cost: a wake with no file event and an unchanged ``PRAGMA data_version``
does no query and reads no file, except a ``stat`` of followed logs when file
events are not trusted, and `Store.reap_crashed` every few seconds while runs
are running (a killed process writes nothing, so only time can tell).

Trust in file events: if ``data_version`` moved (another process committed)
and no WAL event followed within `EVENT_GRACE_S`, three times, the feed stops
relying on events (network filesystems deliver none) and reports
``mode == "polling"``: the data_version tick then does all the work, and
followed logs are checked by size on every tick.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from runtui.live.logtail import LogTail, LogUpdate
from runtui.live.watcher import StopSignal, StoreWatcher, Wake
from runtui.store import changes as sql
from runtui.store import location
from runtui.store.reader import Store, open_store
from runtui.store.records import RunRecord

EVENT_GRACE_S = 1.0
MISSED_EVENTS_FOR_POLLING = 3
REAP_INTERVAL_S = 5.0
Point = tuple[int, float, float]


@dataclass
class Changes:
    """What changed since the last look. Every field is keyed by run uuid.

    ``new_runs`` and ``changed_runs`` are full records (params, tags,
    summaries); a consumer applies both as "insert or update by uuid".
    ``points[run][metric]`` are the new points in step order; ``logs[run]``
    the new lines (not sanitized). ``mode`` is set when the feed switched
    between ``"events"`` and ``"polling"``.
    """

    new_runs: list[RunRecord] = field(default_factory=list)
    changed_runs: list[RunRecord] = field(default_factory=list)
    removed_runs: list[str] = field(default_factory=list)
    points: dict[str, dict[str, list[Point]]] = field(default_factory=dict)
    logs: dict[str, LogUpdate] = field(default_factory=dict)
    mode: str | None = None

    def __bool__(self) -> bool:
        return bool(
            self.new_runs
            or self.changed_runs
            or self.removed_runs
            or self.points
            or self.logs
            or self.mode
        )

    def merge(self, later: Changes, keep_lines: int | None = None) -> None:
        """Fold a later `Changes` into this one, as if both had been read at once."""
        removed = set(later.removed_runs)
        new = {r.uuid: r for r in self.new_runs if r.uuid not in removed}
        changed = {r.uuid: r for r in self.changed_runs if r.uuid not in removed}
        for record in later.new_runs:
            new[record.uuid] = record
        for record in later.changed_runs:
            if record.uuid in new:
                new[record.uuid] = record
            else:
                changed[record.uuid] = record
        self.new_runs, self.changed_runs = list(new.values()), list(changed.values())
        self.removed_runs = [u for u in self.removed_runs if u not in removed]
        self.removed_runs.extend(later.removed_runs)
        for uuid in removed:
            self.points.pop(uuid, None)
            self.logs.pop(uuid, None)
        for uuid, metrics in later.points.items():
            mine = self.points.setdefault(uuid, {})
            for name, points in metrics.items():
                mine.setdefault(name, []).extend(points)
        for uuid, update in later.logs.items():
            if uuid in self.logs:
                self.logs[uuid].merge(update, keep_lines)
            else:
                self.logs[uuid] = LogUpdate(list(update.lines), update.reset, update.partial)
                self.logs[uuid].keep_last(keep_lines)
        if later.mode is not None:
            self.mode = later.mode


@dataclass
class _PointWatch:
    metrics: frozenset[str] | None  # None: every metric of the run, including later ones
    seen: dict[str, int] | None  # last step seen per metric; None: start from what exists now
    run_id: int | None = None
    started_at: float = 0.0


class ChangeFeed:
    """Incremental view of one store; see the module docstring.

    Subscriptions (`follow_log`, `watch_points`) may be changed from any
    thread; `check` and `run` belong to one thread at a time.
    """

    def __init__(
        self,
        store: str | os.PathLike[str] | None = None,
        *,
        interval: float = 0.25,
        reap_interval: float = REAP_INTERVAL_S,
        force_polling: bool | None = None,
    ) -> None:
        self.path = location.resolve_store_path(store)
        self.interval = interval
        self.reap_interval = reap_interval
        self.force_polling = force_polling
        self.mode = "events"
        self.store: Store | None = None
        self._lock = threading.Lock()
        self._log_requests: dict[str, LogTail | None] = {}
        self._point_requests: dict[str, _PointWatch | None] = {}
        self._tails: dict[str, LogTail] = {}
        self._points: dict[str, _PointWatch] = {}
        self._version: int | None = None
        self._top = 0
        self._known: dict[int, str] = {}
        self._fingerprints: dict[int, sql.Fingerprint] = {}
        self._reported_dead: set[str] = set()
        self._last_reap = 0.0
        self._watcher: StoreWatcher | None = None
        self._unconfirmed_since: float | None = None
        self._missed_events = 0

    # -- subscriptions (any thread) -------------------------------------------

    def follow_log(self, run_uuid: str, initial_lines: int = 0) -> None:
        """Deliver a run's new log lines; first the last ``initial_lines`` (with ``reset``).

        Lines written from this call on are delivered, however late the next check.
        """
        tail = LogTail(location.log_path(self.path, run_uuid), initial_lines)
        with self._lock:
            self._log_requests[run_uuid] = tail

    def unfollow_log(self, run_uuid: str) -> None:
        with self._lock:
            self._log_requests[run_uuid] = None

    def watch_points(
        self,
        run_uuid: str,
        *,
        metrics: Iterable[str] | None = None,
        after: Mapping[str, int] | None = None,
    ) -> None:
        """Deliver a run's new points (of ``metrics``, default all, new metrics included).

        ``after``: the last step the caller already has per metric; metrics
        missing from it are delivered from their first point. Without
        ``after``, only points written from now on are delivered.
        """
        watch = _PointWatch(
            metrics=None if metrics is None else frozenset(metrics),
            seen=None if after is None else dict(after),
        )
        with self._lock:
            self._point_requests[run_uuid] = watch

    def unwatch_points(self, run_uuid: str) -> None:
        with self._lock:
            self._point_requests[run_uuid] = None

    # -- reading (the feed's thread) ------------------------------------------

    def open(self) -> None:
        """Open the store and take the baseline: later checks report what came after."""
        store = open_store(self.path)
        self.store = store
        self._version = store.data_version()
        self._known = sql.run_ids(store.conn)
        self._top = max(self._known, default=0)
        self._fingerprints = {
            i: fp for i, fp in sql.live_fingerprints(store.conn).items() if fp[0] == "running"
        }
        self._last_reap = time.monotonic()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def check(self, wake: Wake | None = None) -> Changes:
        """What changed since the last check. ``wake=None`` means "look at everything"."""
        if self.store is None:
            self.open()
        store = self.store
        assert store is not None
        now = time.monotonic()
        changes = Changes()
        fresh_logs, fresh_points = self._take_requests()
        version = store.data_version()
        db_changed = version != self._version
        self._track_events(wake, db_changed, now, changes)
        touched: set[int] = set()
        if db_changed:
            self._version = version
            touched = self._scan_runs(store, changes)
        if self._fingerprints and now - self._last_reap >= self.reap_interval:
            self._last_reap = now
            touched |= self._reap(store, changes)
        unresolved = any(w.run_id is None for w in self._points.values())
        if touched or fresh_points or (db_changed and unresolved):
            self._scan_points(store.conn, changes, touched, fresh_points)
        self._read_logs(changes, wake, fresh_logs)
        return changes

    def run(self, deliver: Callable[[Changes], None], stop: StopSignal) -> None:
        """Check on every wake of a `StoreWatcher` until ``stop`` is set; deliver what changed."""
        self._watcher = StoreWatcher(self.path, self.interval, force_polling=self.force_polling)
        if self.store is None:
            self.open()
        for wake in self._watcher.wakes(stop):
            try:
                changes = self.check(wake)
            except sqlite3.OperationalError:
                continue  # busy or briefly unreadable: the next wake tries again
            if changes:
                deliver(changes)

    # -- internals ------------------------------------------------------------

    def _take_requests(self) -> tuple[set[str], set[str]]:
        with self._lock:
            logs, self._log_requests = self._log_requests, {}
            points, self._point_requests = self._point_requests, {}
        for uuid, tail in logs.items():
            if tail is None:
                self._tails.pop(uuid, None)
            else:
                self._tails[uuid] = tail
        for uuid, watch in points.items():
            if watch is None:
                self._points.pop(uuid, None)
            else:
                self._points[uuid] = watch
        return (
            {u for u, t in logs.items() if t is not None},
            {u for u, w in points.items() if w is not None},
        )

    def _track_events(
        self, wake: Wake | None, db_changed: bool, now: float, changes: Changes
    ) -> None:
        if wake is None or self._watcher is None:
            return
        if not self._watcher.events_ok:
            mode = "polling"
        else:
            if wake.db:
                self._unconfirmed_since, self._missed_events = None, 0
            elif db_changed and self._unconfirmed_since is None:
                self._unconfirmed_since = now
            if (
                self._unconfirmed_since is not None
                and now - self._unconfirmed_since > EVENT_GRACE_S
            ):
                self._missed_events += 1
                self._unconfirmed_since = None
            mode = "polling" if self._missed_events >= MISSED_EVENTS_FOR_POLLING else "events"
        if mode != self.mode:
            self.mode = changes.mode = mode

    def _scan_runs(self, store: Store, changes: Changes) -> set[int]:
        conn = store.conn
        count, top = sql.run_totals(conn)
        new_records: list[RunRecord] = []
        if top > self._top:
            new_records = sql.runs_after(store, self._top)
            self._known.update((r.row_id, r.uuid) for r in new_records)
            self._top = top
        if count != len(self._known):  # runs were deleted (and maybe their row ids reused)
            current = sql.run_ids(conn)
            changes.removed_runs = [u for i, u in self._known.items() if current.get(i) != u]
            reused = [i for i, u in current.items() if self._known.get(i) != u]
            self._known = current
            self._top = max(current, default=0)
            new_records.extend(sql.runs_by_ids(store, reused))
        changes.new_runs = new_records
        new_ids = {r.row_id for r in new_records}
        fingerprints = sql.live_fingerprints(conn, self._fingerprints.keys())
        moved = {
            i
            for i, fp in fingerprints.items()
            if i not in new_ids and self._fingerprints.get(i) != fp
        }
        self._fingerprints = {i: fp for i, fp in fingerprints.items() if fp[0] == "running"}
        if moved:
            changes.changed_runs = sql.runs_by_ids(store, moved)
        return moved | new_ids

    def _reap(self, store: Store, changes: Changes) -> set[int]:
        """Mark runs whose process died as crashed; report them (our own write moves no
        data_version, so they are read back here)."""
        try:
            dead = set(store.reap_crashed()) - self._reported_dead
        except sqlite3.Error:
            return set()
        if not dead:
            return set()
        self._reported_dead |= dead
        ids = {i for i, u in self._known.items() if u in dead}
        by_uuid = {r.uuid: r for r in changes.changed_runs}
        by_uuid.update((r.uuid, r) for r in sql.runs_by_ids(store, ids))
        changes.changed_runs = list(by_uuid.values())
        if store.writable:
            for i in ids:
                self._fingerprints.pop(i, None)
        return ids

    def _scan_points(
        self, conn: sqlite3.Connection, changes: Changes, touched: set[int], fresh: set[str]
    ) -> None:
        for uuid, watch in self._points.items():
            if watch.run_id is None:
                ref = sql.run_ref(conn, uuid)
                if ref is None:
                    continue  # not stored yet
                watch.run_id, watch.started_at = ref
                fresh = fresh | {uuid}
            if uuid not in fresh and watch.run_id not in touched:
                continue
            last_steps = sql.metric_last_steps(conn, watch.run_id)
            if watch.seen is None:
                watch.seen = last_steps
                continue
            out: dict[str, list[Point]] = {}
            for name, last in last_steps.items():
                seen = watch.seen.get(name)
                if (watch.metrics is not None and name not in watch.metrics) or (
                    seen is not None and last <= seen
                ):
                    continue
                points = sql.points_after(conn, watch.run_id, watch.started_at, name, seen)
                if points:
                    out[name] = points
                    watch.seen[name] = points[-1][0]
            if out:
                changes.points[uuid] = out

    def _read_logs(self, changes: Changes, wake: Wake | None, fresh: set[str]) -> None:
        if not self._tails:
            return
        ended = {r.uuid for r in changes.changed_runs if r.status != "running"}
        if wake is None or wake.all_logs or self.mode == "polling":
            due = set(self._tails)
        else:
            due = (fresh | wake.logs | ended) & self._tails.keys()
        for uuid in due:
            tail = self._tails[uuid]
            update = tail.finish() if uuid in ended else tail.read()
            if update is not None:
                changes.logs[uuid] = update
