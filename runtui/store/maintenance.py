"""Deleting runs and collecting garbage: the SQL and file work behind ``rm`` and ``gc``.

`delete_runs` removes everything that belongs to the runs alone (points,
summaries, params, tags, artifact rows, the snapshot rows no other run uses)
in the caller's write transaction; the bytes shared with other runs (blobs,
artifact files) are left for `collect_garbage`, which finds what nothing
refers to any more, then vacuums.

Safety with writers at work: a snapshot and the run that uses it are
recorded in one transaction, and a snapshot being taken re-stores any blob
dropped under it, so dropping unreferenced snapshots and blobs cannot hurt a
run being started. An artifact file, though, is copied into place before its
row is written; files younger than `ARTIFACT_GRACE_S` are therefore kept.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from runtui.store import connection, location

ARTIFACT_GRACE_S = 3600.0
CHUNK = 500  # ids per IN (...): well under SQLite's parameter limit


@dataclass(frozen=True)
class Deleted:
    runs: int
    points: int
    snapshots: int


def _chunks(items: list[int]) -> Iterator[tuple[list[int], str]]:
    """``items`` in slices SQLite accepts as parameters, each with its ``?,?,…`` list."""
    for start in range(0, len(items), CHUNK):
        part = items[start : start + CHUNK]
        yield part, ",".join("?" * len(part))


def delete_runs(conn: sqlite3.Connection, run_ids: Iterable[int]) -> Deleted:
    """Delete runs and what only they use; call inside a write transaction.

    One ``IN (...)`` statement per table per `CHUNK` runs: deleting ten
    thousand runs costs a few dozen statements, not a hundred thousand.
    """
    ids = list(dict.fromkeys(run_ids))
    runs = points = snapshots = 0
    snapshot_ids: set[int] = set()
    for part, marks in _chunks(ids):
        snapshot_ids.update(
            row[0]
            for row in conn.execute(
                f"SELECT snapshot_id FROM runs WHERE id IN ({marks}) AND snapshot_id IS NOT NULL",
                part,
            )
        )
        points += conn.execute(
            f"SELECT coalesce(sum(count), 0) FROM metric_summary WHERE run_id IN ({marks})", part
        ).fetchone()[0]
        for table in ("metrics", "metric_summary", "params", "tags", "artifacts"):
            conn.execute(f"DELETE FROM {table} WHERE run_id IN ({marks})", part)
        runs += conn.execute(f"DELETE FROM runs WHERE id IN ({marks})", part).rowcount
    for part, marks in _chunks(sorted(snapshot_ids)):
        used = {
            row[0]
            for row in conn.execute(
                f"SELECT DISTINCT snapshot_id FROM runs WHERE snapshot_id IN ({marks})", part
            )
        }
        unused = [snapshot_id for snapshot_id in part if snapshot_id not in used]
        if unused:
            marks = ",".join("?" * len(unused))
            conn.execute(f"DELETE FROM snapshot_files WHERE snapshot_id IN ({marks})", unused)
            snapshots += conn.execute(
                f"DELETE FROM snapshots WHERE id IN ({marks})", unused
            ).rowcount
    return Deleted(runs, points, snapshots)


def delete_log_files(store: Path, uuids: Iterable[str]) -> int:
    """Remove the captured output of runs; return the bytes freed."""
    freed = 0
    for uuid in uuids:
        path = location.log_path(store, uuid)
        with contextlib.suppress(OSError):
            size = path.stat().st_size
            path.unlink()
            freed += size
    return freed


@dataclass(frozen=True)
class Collected:
    """What `collect_garbage` removed; ``bytes_freed`` is measured on disk."""

    snapshots: int
    blobs: int
    artifact_files: int
    bytes_freed: int
    recent_artifact_files: int = 0  # unused but younger than ARTIFACT_GRACE_S: kept


def _drop_unused_rows(conn: sqlite3.Connection) -> tuple[int, int]:
    snapshots = conn.execute(
        "DELETE FROM snapshots WHERE id NOT IN "
        "(SELECT snapshot_id FROM runs WHERE snapshot_id IS NOT NULL)"
    ).rowcount
    conn.execute("DELETE FROM snapshot_files WHERE snapshot_id NOT IN (SELECT id FROM snapshots)")
    blobs = conn.execute(
        "DELETE FROM blobs WHERE hash NOT IN "
        "(SELECT hash FROM snapshot_files WHERE hash IS NOT NULL)"
    ).rowcount
    return snapshots, blobs


def _unused_artifact_files(
    conn: sqlite3.Connection, folder: Path, now: float
) -> tuple[list[Path], int]:
    """Files under ``artifacts/`` that no artifacts row names and that are not fresh, and
    how many unused files were kept because they are fresh."""
    if not folder.is_dir():
        return [], 0
    used = {row[0] for row in conn.execute("SELECT DISTINCT hash FROM artifacts")}
    out, recent = [], 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            if name in used:
                continue
            try:
                if now - path.stat().st_mtime < ARTIFACT_GRACE_S:
                    recent += 1
                    continue
            except OSError:
                continue
            out.append(path)
    return out, recent


def _disk_bytes(store: Path) -> int:
    db = location.db_path(store)
    total = 0
    for path in (db, db.with_name(db.name + "-wal")):
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


def collect_garbage(
    conn: sqlite3.Connection, store: Path, *, now: float | None = None
) -> Collected:
    """Drop snapshots no run uses, blobs no snapshot uses, artifact files no run uses; vacuum."""
    now = time.time() if now is None else now
    before = _disk_bytes(store)
    snapshots, blobs = connection.write_transaction(conn, _drop_unused_rows)
    freed_files = removed = 0
    unused, recent = _unused_artifact_files(conn, location.artifacts_dir(store), now)
    for path in unused:
        try:
            size = path.stat().st_size
            path.unlink()
        except OSError:
            continue
        freed_files += size
        removed += 1
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only succeeds when that was the last file of the folder
    connection.retry_busy(lambda: conn.execute("VACUUM"))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    after = _disk_bytes(store)
    return Collected(snapshots, blobs, removed, max(0, before - after) + freed_files, recent)
