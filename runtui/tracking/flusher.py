"""The background thread that moves a run's buffered points into the store.

`Run.log` only appends to in-memory columns; this thread wakes every
`FLUSH_INTERVAL_S` (or sooner when `FLUSH_AT_POINTS` are waiting), swaps the
buffer out under the run's lock, and writes it in one ``BEGIN IMMEDIATE``
transaction: SQL only, no Python work while the write lock is held beyond
handing columns to ``executemany``.

Storage trouble never reaches the training script: a failed write goes to a
spill file (warned about once on stderr), the store is retried every
`SPILL_RETRY_S`, and the spill is merged back on the first write that works.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from runtui import liveness
from runtui.errors import StoreError
from runtui.store import connection, spill, writer
from runtui.store.summary import SparkBuckets

if TYPE_CHECKING:
    from runtui.tracking.run import Run

FLUSH_INTERVAL_S = 0.5
FLUSH_AT_POINTS = 20_000
SPILL_RETRY_S = 5.0
WRITE_ATTEMPTS = 3


class Flusher:
    def __init__(self, run: Run, conn: sqlite3.Connection | None, row_id: int | None) -> None:
        self.run = run
        self.conn = conn
        self.row_id = row_id
        self.key_ids: dict[str, int] = {}
        self.sparks: dict[int, SparkBuckets] = {}
        self.spill = spill.SpillFile(run.store_path, run.uuid)
        self.failed_at: float | None = None if conn is not None else 0.0
        self.warned = False
        self.last_beat = time.time()
        self.wake = threading.Event()
        self._stop = False
        self.thread = threading.Thread(target=self._loop, name="runtui-flusher", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop = True
        self.wake.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join()

    def _loop(self) -> None:
        while not self._stop:
            self.wake.wait(FLUSH_INTERVAL_S)
            self.wake.clear()
            if self._stop:
                break
            self.flush()

    def flush(self, final_ops: list[dict[str, Any]] | None = None, durable: bool = False) -> None:
        """Write whatever is buffered (plus ``final_ops``); spill it if the store refuses."""
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
        except (sqlite3.Error, OSError, StoreError) as exc:
            self.failed_at = now
            self._spill(cols, ops, exc)

    def _write(
        self, cols: dict[str, writer.Column], ops: list[dict[str, Any]], now: float, durable: bool
    ) -> None:
        if self.conn is None:
            self.conn = connection.connect(self.run.store_path, create=True)
        conn = self.conn
        if self.spill.path is not None:
            spill.merge_all(self.run.store_path, conn, only=self.spill.path)
            self.spill.path = None
            self.sparks.clear()
        if self.row_id is None:
            self.row_id = writer.run_row_id(conn, self.run.uuid)
        new_sparks: dict[int, SparkBuckets] = {}

        def transaction(c: sqlite3.Connection) -> None:
            writer.apply_ops(c, ops)
            missing = [name for name in cols if name not in self.key_ids]
            if missing:
                self.key_ids.update(writer.intern_metric_keys(c, missing))
            columns = {self.key_ids[name]: col for name, col in cols.items()}
            new_sparks.clear()
            for key_id, col in columns.items():
                spark = self.sparks.get(key_id) or writer.load_spark(c, self.row_id, key_id)
                spark = spark.copy()
                spark.add(col.values)
                new_sparks[key_id] = spark
            writer.write_points(c, self.row_id, columns, new_sparks)
            writer.heartbeat(c, self.row_id, now)

        if durable:
            conn.execute("PRAGMA synchronous=FULL")
        connection.write_transaction(conn, transaction, attempts=WRITE_ATTEMPTS)
        self.sparks.update(new_sparks)

    def _spill(
        self, cols: dict[str, writer.Column], ops: list[dict[str, Any]], exc: BaseException | None
    ) -> None:
        self.sparks.clear()  # reloaded from the database once it can be written again
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
        if self.conn is not None:
            self.conn.close()
            self.conn = None
