"""SQL for code snapshots: ``blobs``, ``snapshots`` and ``snapshot_files``.

A blob is a file's content, keyed by the sha256 of the uncompressed bytes
and stored zlib-compressed, so the same content is stored once across every
run. A snapshot is a file list; its ``manifest`` (sha256 of the list) is
UNIQUE, so a thousand runs of unchanged code share one snapshot row and
one copy of each file.

Nothing here compresses or hashes: callers do that work before opening a
write transaction, and hand finished rows to these functions.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

_CHUNK = 900  # stays under SQLite's default limit on bound variables


class SnapshotFile(NamedTuple):
    """One entry of a snapshot: a regular file (``hash`` set) or a symlink (``link`` set).

    A named tuple: listing 5,000-file snapshots builds many of them.
    """

    path: str
    hash: str | None
    size: int
    mode: int
    link: str | None = None

    @property
    def is_link(self) -> bool:
        return self.link is not None


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    manifest: str
    root: str
    created_at: float
    file_count: int
    total_size: int


def existing_blobs(conn: sqlite3.Connection, hashes: Iterable[str]) -> set[str]:
    """The subset of ``hashes`` already stored."""
    wanted = list(dict.fromkeys(hashes))
    found: set[str] = set()
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        rows = conn.execute(
            f"SELECT hash FROM blobs WHERE hash IN ({','.join('?' * len(chunk))})", chunk
        )
        found.update(row[0] for row in rows)
    return found


def insert_blobs(conn: sqlite3.Connection, blobs: Iterable[tuple[str, int, bytes]]) -> int:
    """Store (hash, uncompressed size, zlib data) rows; return the compressed bytes added."""
    rows = {row[0]: row for row in blobs}
    for digest in existing_blobs(conn, rows):
        del rows[digest]
    conn.executemany("INSERT INTO blobs(hash, size, data) VALUES (?, ?, ?)", rows.values())
    return sum(len(row[2]) for row in rows.values())


def find_snapshot(conn: sqlite3.Connection, manifest: str) -> int | None:
    row = conn.execute("SELECT id FROM snapshots WHERE manifest = ?", (manifest,)).fetchone()
    return row[0] if row else None


def insert_snapshot(
    conn: sqlite3.Connection, manifest: str, root: str, files: Sequence[SnapshotFile]
) -> int:
    """Record a file list (idempotent on ``manifest``) and return the snapshot id."""
    existing = find_snapshot(conn, manifest)
    if existing is not None:
        return existing
    cursor = conn.execute(
        "INSERT INTO snapshots(manifest, root, created_at, file_count, total_size) "
        "VALUES (?, ?, ?, ?, ?)",
        (manifest, root, time.time(), len(files), sum(f.size for f in files)),
    )
    snapshot_id = cursor.lastrowid
    conn.executemany(
        "INSERT INTO snapshot_files(snapshot_id, path, hash, size, mode, link) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(snapshot_id, f.path, f.hash, f.size, f.mode, f.link) for f in files],
    )
    return snapshot_id


def snapshot_info(conn: sqlite3.Connection, snapshot_id: int) -> SnapshotInfo | None:
    row = conn.execute(
        "SELECT id, manifest, root, created_at, file_count, total_size FROM snapshots WHERE id = ?",
        (snapshot_id,),
    ).fetchone()
    return SnapshotInfo(*row) if row else None


def snapshot_files(conn: sqlite3.Connection, snapshot_id: int) -> list[SnapshotFile]:
    """The snapshot's entries, in path order, exactly as stored (callers validate paths)."""
    rows = conn.execute(
        "SELECT path, hash, size, mode, link FROM snapshot_files WHERE snapshot_id = ? "
        "ORDER BY path",
        (snapshot_id,),
    )
    return [SnapshotFile(*row) for row in rows]


def changed_files(
    conn: sqlite3.Connection, old_id: int, new_id: int
) -> list[tuple[SnapshotFile | None, SnapshotFile | None]]:
    """(old, new) entries of every path that differs between two snapshots, in path order.

    Done by the primary key in SQL, so two 5,000-file snapshots with ten
    changes return ten rows without building 10,000 objects.
    """
    cols = "{0}.path, {0}.hash, {0}.size, {0}.mode, {0}.link"
    rows = conn.execute(
        f"SELECT {cols.format('a')}, {cols.format('b')} FROM snapshot_files a "
        "LEFT JOIN snapshot_files b ON b.snapshot_id = ? AND b.path = a.path "
        "WHERE a.snapshot_id = ? AND (b.path IS NULL OR a.hash IS NOT b.hash "
        "OR a.mode IS NOT b.mode OR a.link IS NOT b.link) "
        f"UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, {cols.format('b')} "
        "FROM snapshot_files b WHERE b.snapshot_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM snapshot_files a WHERE a.snapshot_id = ? AND a.path = b.path)",
        (new_id, old_id, new_id, old_id),
    )
    pairs = [
        (
            SnapshotFile(*row[:5]) if row[0] is not None else None,
            SnapshotFile(*row[5:]) if row[5] is not None else None,
        )
        for row in rows
    ]
    return sorted(pairs, key=lambda pair: (pair[0] or pair[1]).path)


def snapshot_contents(
    conn: sqlite3.Connection, snapshot_id: int
) -> Iterator[tuple[str, str, bytes | None]]:
    """(path, hash, compressed data or None when missing) of every regular file, in path order."""
    rows = conn.execute(
        "SELECT f.path, f.hash, b.data FROM snapshot_files f LEFT JOIN blobs b ON b.hash = f.hash "
        "WHERE f.snapshot_id = ? AND f.link IS NULL ORDER BY f.path",
        (snapshot_id,),
    )
    yield from rows


def read_blob(conn: sqlite3.Connection, digest: str) -> bytes | None:
    """A blob's compressed data, or None when it is missing."""
    row = conn.execute("SELECT data FROM blobs WHERE hash = ?", (digest,)).fetchone()
    return row[0] if row else None


def blob_bytes(conn: sqlite3.Connection) -> int:
    """Compressed bytes held by all blobs (what a snapshot costs the store)."""
    return conn.execute("SELECT coalesce(sum(length(data)), 0) FROM blobs").fetchone()[0]
