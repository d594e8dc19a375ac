"""The background thread that moves runs' buffered points into the store.

`Run.log` only appends to in-memory columns; one thread per process (the
`_Ticker`, shared by every open run) wakes every `FLUSH_INTERVAL_S` (or
sooner when `FLUSH_AT_POINTS` are waiting), and each run's `Flusher` swaps
its buffer out under the run's lock and writes it in one ``BEGIN IMMEDIATE``
transaction: SQL only, no Python work while the write lock is held beyond
handing columns to ``executemany``. Sharing the thread means starting and
finishing a run costs no thread start and no join (in a sweep of short runs
those handoffs cost milliseconds each on a busy machine); a flusher's own
lock keeps the final flush of ``finish`` and a tick from overlapping.

Storage trouble never reaches the training script: a failed write goes to a
spill file (warned about once on stderr), the store is retried every
`SPILL_RETRY_S`, and the spill is merged back on the first write that works.

A finished run leaves its connection idle (`release_connection`) for the next
run of the process to take (`take_connection`): closing the last connection
to a WAL database checkpoints and deletes the WAL, and reopening recreates it,
which in a sweep of short runs cost more than logging their points. At most
one connection is kept idle; it is closed at interpreter exit.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui import liveness
from runtui.store import connection, location, spill, writer

if TYPE_CHECKING:
    from runtui.tracking.run import Run

FLUSH_INTERVAL_S = 0.5
FLUSH_AT_POINTS = 20_000
SPILL_RETRY_S = 5.0
WRITE_ATTEMPTS = 3

_idle: tuple[Path, sqlite3.Connection, tuple[int, int]] | None = None
_idle_lock = threading.Lock()


def _identity(store: Path) -> tuple[int, int] | None:
    """(device, inode) of the store's database, or None if it is gone or not writable."""
    db = location.db_path(store)
    try:
        st = os.stat(db)
    except OSError:
        return None
    if not (os.access(store, os.W_OK) and os.access(db, os.W_OK)):
        return None
    return st.st_dev, st.st_ino


def take_connection(store: Path) -> sqlite3.Connection:
    """A writable connection to ``store``: the idle one if it still fits, else a new one."""
    global _idle
    with _idle_lock:
        idle, _idle = _idle, None
    if idle is not None:
        path, conn, identity = idle
        if path == store and _identity(store) == identity:
            return conn
        conn.close()
    return connection.connect(store, create=True)


def release_connection(store: Path, conn: sqlite3.Connection) -> None:
    """Keep ``conn`` for the next run of this process (closing the one kept before)."""
    global _idle
    identity = _identity(store)
    if identity is None or conn.in_transaction:
        conn.close()
        return
    conn.execute("PRAGMA synchronous=NORMAL")  # a durable final flush set FULL
    with _idle_lock:
        previous, _idle = _idle, (store, conn, identity)
    if previous is not None:
        previous[1].close()


class _Ticker:
    """The process's flushing thread: every open run's `Flusher`, on a timer or when woken."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.flushers: list[Flusher] = []
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def add(self, flusher: Flusher) -> None:
        with self.lock:
            self.flushers.append(flusher)
            alive = self.thread is not None and self.thread.is_alive()
            if not alive or self.pid != os.getpid():  # a forked child has no thread
                self.pid = os.getpid()
                self.thread = threading.Thread(
                    target=self._loop, name="runtui-flusher", daemon=True
                )
                self.thread.start()

    def remove(self, flusher: Flusher) -> None:
        with self.lock:
            if flusher in self.flushers:
                self.flushers.remove(flusher)

    def _loop(self) -> None:
        while True:
            self.wake.wait(FLUSH_INTERVAL_S)
            self.wake.clear()
            with self.lock:
                flushers = list(self.flushers)
            for flusher in flushers:
                flusher._tick()


_ticker = _Ticker()


# Held while a flush is inside SQLite. fork() waits for it, so a child is never
# born while one of our threads holds SQLite's internal mutexes (a child would
# deadlock on its first query).
_in_sqlite = threading.Lock()


def _after_fork_in_child() -> None:
    """A forked child starts clean: SQLite forbids using a connection across fork().

    The parent's idle connection is dropped (not closed: that would touch the
    parent's locks), and so are the parent's runs: the child neither flushes
    nor finishes them. A child that logs starts a run of its own.
    """
    global _idle, _idle_lock, _in_sqlite
    _idle = None
    _idle_lock = threading.Lock()
    _in_sqlite = threading.Lock()
    _ticker.__init__()


os.register_at_fork(
    before=lambda: _in_sqlite.acquire(),
    after_in_parent=lambda: _in_sqlite.release(),
    after_in_child=_after_fork_in_child,
)


@atexit.register
def _close_idle() -> None:
    global _idle
    with _idle_lock:
        idle, _idle = _idle, None
    if idle is not None:
        idle[1].close()


class Flusher:
    def __init__(self, run: Run, conn: sqlite3.Connection | None, row_id: int | None) -> None:
        self.run = run
        self.conn = conn
        self.row_id = row_id
        self.key_ids: dict[str, int] = {}
        self.spill = spill.SpillFile(run.store_path, run.uuid)
        self.failed_at: float | None = None if conn is not None else 0.0
        self.warned = False
        self.last_beat = time.time()
        self.wake = _ticker.wake  # set() asks for a flush soon
        self.pid = os.getpid()
        self._stop = False
        self._flush_lock = threading.RLock()

    def start(self) -> None:
        _ticker.add(self)

    def stop(self) -> None:
        """No flush from the background after this returns (one in progress is waited for)."""
        self._stop = True
        _ticker.remove(self)
        with self._flush_lock:
            pass

    def _tick(self) -> None:
        with self._flush_lock:
            if not self._stop:
                with _in_sqlite:
                    self._flush()

    def flush(self, final_ops: list[dict[str, Any]] | None = None, durable: bool = False) -> None:
        """Write whatever is buffered (plus ``final_ops``); spill it if the store refuses."""
        with self._flush_lock, _in_sqlite:
            self._flush(final_ops, durable)

    def _flush(self, final_ops: list[dict[str, Any]] | None = None, durable: bool = False) -> None:
        cols, ops = self.run._take_buffer()
        ops.extend(final_ops or ())
        now = time.time()
        beat = now - self.last_beat >= liveness.HEARTBEAT_INTERVAL_S
        if not cols and not ops and not beat and self.spill.path is None:
            return
        if self.failed_at is not None and now - self.failed_at < SPILL_RETRY_S and not durable:
            self._spill(cols, ops, None)
            return
        try:
            self._write(cols, ops, now, durable)
            self.failed_at = None
            self.last_beat = now
        except Exception as exc:
            self.failed_at = now
            self._spill(cols, ops, exc)

    def _write(
        self, cols: dict[str, writer.Column], ops: list[dict[str, Any]], now: float, durable: bool
    ) -> None:
        if self.pid != os.getpid():  # used from a forked child: never the parent's connection
            self.conn, self.pid = None, os.getpid()
        if self.conn is None:
            self.conn = take_connection(self.run.store_path)
        conn = self.conn
        if self.spill.path is not None:
            spill.merge_all(self.run.store_path, conn, only=self.spill.path)
            self.spill.path = None
        if self.row_id is None:
            self.row_id = writer.run_row_id(conn, self.run.uuid)
        new_ids: dict[str, int] = {}

        def transaction(c: sqlite3.Connection) -> None:
            # ids interned here exist only once this transaction commits: they join
            # `key_ids` after that, or a rolled-back id could later name another metric
            writer.apply_ops(c, ops)
            new_ids.clear()
            missing = [name for name in cols if name not in self.key_ids]
            if missing:
                new_ids.update(writer.intern_metric_keys(c, missing))
            ids = self.key_ids | new_ids if new_ids else self.key_ids
            writer.write_points(c, self.row_id, {ids[name]: col for name, col in cols.items()})
            writer.heartbeat(c, self.row_id, now)

        if durable:
            conn.execute("PRAGMA synchronous=FULL")
        connection.write_transaction(conn, transaction, attempts=WRITE_ATTEMPTS)
        self.key_ids.update(new_ids)

    def _spill(
        self, cols: dict[str, writer.Column], ops: list[dict[str, Any]], exc: BaseException | None
    ) -> None:
        records = list(ops) + [
            {
                "op": "points",
                "uuid": self.run.uuid,
                "key": name,
                "steps": col.steps,
                "ts": col.ts,
                "values": col.values,
            }
            for name, col in cols.items()
        ]
        if not records:
            return
        try:
            path = self.spill.append(records)
        except OSError as spill_exc:
            self._warn(f"cannot write to the store nor spill ({spill_exc}); points were dropped")
            return
        if not self.warned and exc is not None:
            self._warn(
                f"cannot write to the store at {self.run.store_path} ({exc}); keeping this "
                f"run's data in {path} until it can be merged back. Training goes on."
            )

    def _warn(self, message: str) -> None:
        self.warned = True
        try:
            sys.stderr.write(f"runtui: warning: {message}\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        with self._flush_lock:
            if self.conn is not None:
                release_connection(self.run.store_path, self.conn)
                self.conn = None
