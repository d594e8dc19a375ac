"""Opening ``runtui.db``: pragmas, schema checks, and retrying on a busy store.

Connections run in autocommit mode (``isolation_level=None``); writers open
their own ``BEGIN IMMEDIATE`` transactions so that a read-then-write never
fails half way under contention, and hold them only for SQL, never while
doing Python work.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from runtui.errors import StoreError
from runtui.store import location, schema

BUSY_TIMEOUT_S = 10.0  # override with RUNTUI_BUSY_TIMEOUT (seconds)
T = TypeVar("T")


def _describe(store: Path, exc: sqlite3.DatabaseError) -> StoreError:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return StoreError(f"{store} is not a readable runtui store ({text})")
    return StoreError(f"cannot open store {store}: {text}")


def busy_timeout() -> float:
    try:
        return float(os.environ.get("RUNTUI_BUSY_TIMEOUT", BUSY_TIMEOUT_S))
    except ValueError:
        return BUSY_TIMEOUT_S


def connect(store: Path, *, readonly: bool = False, create: bool = False) -> sqlite3.Connection:
    """Open the store's database, checking (and if writable, migrating) its schema.

    ``readonly`` opens with ``mode=ro``: readers never block writers in WAL
    mode anyway, but a read-only open cannot create or change anything.
    """
    db = location.db_path(store)
    if not db.exists():
        if not create:
            raise StoreError(f"no runtui store at {store} (log a run, or try `runtui demo`)")
        store.mkdir(parents=True, exist_ok=True)
    elif store.is_file() or not store.is_dir():
        raise StoreError(f"{store} is not a runtui store folder")
    try:
        if readonly:
            conn = _open_readonly(db)
        else:
            conn = sqlite3.connect(
                db, timeout=busy_timeout(), isolation_level=None, check_same_thread=False
            )
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            retry_busy(lambda: schema.migrate(conn))
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.DatabaseError as exc:
        raise _describe(store, exc) from None
    return conn


def _open_readonly(db: Path) -> sqlite3.Connection:
    """``mode=ro``; on a read-only filesystem, where SQLite cannot create the
    WAL index (``-shm``), fall back to ``immutable=1``, which reads the file as
    it is (changes made meanwhile by a writer elsewhere are not seen)."""
    last: sqlite3.OperationalError | None = None
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        conn = sqlite3.connect(
            f"{db.as_uri()}?{flags}",
            uri=True,
            timeout=busy_timeout(),
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            schema.check_version(conn)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            last = exc
    raise last or sqlite3.OperationalError("cannot open the store read-only")


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


def retry_busy(fn: Callable[[], T], *, attempts: int = 8, first_delay: float = 0.02) -> T:
    """Call ``fn``; on SQLITE_BUSY/locked retry with jittered exponential backoff.

    The connection's own busy timeout already waits; this covers the cases
    SQLite reports at once (a deferred transaction that must upgrade, a
    checkpoint in progress).
    """
    delay = first_delay
    for attempt in range(attempts):
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or attempt == attempts - 1:
                raise
            import random  # here: the module costs 5 ms at every start, and is rarely needed

            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")


def write_transaction(
    conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], *, attempts: int = 8
) -> T:
    """Run ``fn`` inside ``BEGIN IMMEDIATE`` … ``COMMIT``, retrying when busy.

    ``fn`` may run more than once: it must not change state outside the
    transaction.
    """

    def attempt() -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
            return result
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    return retry_busy(attempt, attempts=attempts)
