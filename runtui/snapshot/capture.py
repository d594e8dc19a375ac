"""Taking a snapshot: hash the files, store new content, record the file list.

The work is split so the store's write lock is held only for SQL:

1. read and hash every file (threads: hashlib and zlib release the GIL);
2. ask the store which hashes it already holds;
3. compress only the new content (level 1, or level 0 for content that does
   not compress, which zlib would otherwise crawl through) and insert it in
   transactions of at most `BATCH_BYTES`;
4. in one last transaction, record the file list under its manifest hash
   (an identical list reuses the existing snapshot row) and point the run
   at it. That transaction re-checks that every blob is present, so a
   ``runtui gc`` that ran in between cannot leave a snapshot with holes.

Unchanged code therefore costs one read and hash per file and zero new
blob bytes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import threading
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui.errors import RuntuiError, StoreError
from runtui.snapshot import statcache
from runtui.snapshot.limits import Limits, SnapshotTooLargeError, check
from runtui.snapshot.walk import Tree, TreeEntry, walk
from runtui.store import connection, snapshots, writer
from runtui.store.snapshots import SnapshotFile

if TYPE_CHECKING:
    from runtui.tracking.run import Run

BATCH_BYTES = 32 << 20
KEEP_BYTES = 64 << 20  # content kept in memory between hashing and compressing
_SAMPLE = 64 << 10
_WORKERS = min(4, os.cpu_count() or 1)


@dataclass(frozen=True)
class Stored:
    snapshot_id: int
    files: int
    total_size: int
    new_blob_bytes: int  # compressed bytes this snapshot added to the store
    run_updated: bool = False


def _read(path: Path) -> bytes:
    """The file's bytes, refusing to follow a symlink swapped in since the walk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        want = os.fstat(fd).st_size + 1
        chunks = []
        while chunk := os.read(fd, max(want, 1 << 16)):
            chunks.append(chunk)
            want -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def compress(data: bytes) -> bytes:
    """zlib data; level 0 (stored) when a sample shows the content does not compress."""
    if len(data) > _SAMPLE:
        sample = data[:_SAMPLE]
        if len(zlib.compress(sample, 1)) > 0.9 * len(sample):
            return zlib.compress(data, 0)
    return zlib.compress(data, 1)


def _balanced(items: Sequence[TreeEntry], groups: int) -> list[list[TreeEntry]]:
    """Split into ``groups`` lists of roughly equal bytes (big files spread first)."""
    buckets: list[list[TreeEntry]] = [[] for _ in range(groups)]
    loads = [0] * groups
    for item in sorted(items, key=lambda e: -e.size):
        i = loads.index(min(loads))
        buckets[i].append(item)
        loads[i] += item.size + 4096  # a small file still costs an open
    return [b for b in buckets if b]


def _parallel(fn: Callable[[list[TreeEntry]], list], items: Sequence[TreeEntry]) -> list:
    groups = _balanced(items, _WORKERS * 4)
    if len(groups) <= 1:
        return fn(list(items))
    with ThreadPoolExecutor(_WORKERS) as pool:
        return [r for part in pool.map(fn, groups) for r in part]


class _Hasher:
    """Hashes of a tree's files: from the stat cache, else read (and kept for packing)."""

    def __init__(self, tree: Tree, cache: dict[str, tuple[list[int], str]]) -> None:
        self.tree = tree
        self.files = [e for e in tree.entries if e.link is None]
        self.hashed: dict[str, tuple[str, int]] = {}  # path -> (sha256, size)
        self.kept: dict[str, bytes] = {}
        self.fresh = 0  # files read because the cache did not know them
        self._budget = KEEP_BYTES
        self._lock = threading.Lock()
        unknown = []
        for entry in self.files:
            digest = statcache.lookup(cache, entry)
            if digest is None:
                unknown.append(entry)
            else:
                self.hashed[entry.path] = (digest, entry.size)
        self.fresh = len(unknown)
        self.hashed.update((p, (d, n)) for p, d, n in _parallel(self._hash, unknown))

    def _skip(self, entry: TreeEntry, exc: OSError) -> None:
        self.tree.skipped.append(f"{entry.path}: {exc.strerror or exc}")
        self.hashed.pop(entry.path, None)

    def _hash(self, part: list[TreeEntry]) -> list[tuple[str, str, int]]:
        out = []
        for entry in part:
            try:
                data = _read(self.tree.root / entry.path)
            except OSError as exc:
                self._skip(entry, exc)
                continue
            out.append((entry.path, hashlib.sha256(data).hexdigest(), len(data)))
            with self._lock:
                if self._budget >= len(data):
                    self._budget -= len(data)
                    self.kept[entry.path] = data
        return out

    def pack(self, part: list[TreeEntry]) -> list[tuple[str, int, bytes]]:
        """(hash, size, compressed) of each file, read again if it was not kept."""
        out = []
        for entry in part:
            data = self.kept.pop(entry.path, None)
            if data is None:
                try:
                    data = _read(self.tree.root / entry.path)
                except OSError as exc:
                    self._skip(entry, exc)
                    continue
                self.hashed[entry.path] = (hashlib.sha256(data).hexdigest(), len(data))
            out.append((self.hashed[entry.path][0], len(data), compress(data)))
        return out

    def records(self) -> list[SnapshotFile]:
        return [
            SnapshotFile(e.path, None, e.size, e.mode, e.link)
            if e.link is not None
            else SnapshotFile(e.path, *self.hashed[e.path], e.mode)
            for e in self.tree.entries
            if e.link is not None or e.path in self.hashed
        ]


def _store_blobs(conn: sqlite3.Connection, hasher: _Hasher) -> int:
    """Compress and insert the content the store lacks; return the compressed bytes added."""
    have = snapshots.existing_blobs(conn, (d for d, _ in hasher.hashed.values()))
    needed: dict[str, TreeEntry] = {}
    for entry in hasher.files:
        digest = hasher.hashed.get(entry.path, ("", 0))[0]
        if digest and digest not in have and digest not in needed:
            needed[digest] = entry
    added = pending = 0
    batch: list[tuple[str, int, bytes]] = []
    for blob in _parallel(hasher.pack, list(needed.values())):
        batch.append(blob)
        pending += len(blob[2])
        if pending >= BATCH_BYTES:
            added += connection.write_transaction(
                conn, lambda c, b=batch: snapshots.insert_blobs(c, b)
            )
            batch, pending = [], 0
    if batch:
        added += connection.write_transaction(conn, lambda c: snapshots.insert_blobs(c, batch))
    hasher.kept.clear()
    return added


def store_tree(
    conn: sqlite3.Connection,
    tree: Tree,
    run_uuid: str | None = None,
    run_fields: dict[str, Any] | None = None,
    cache_file: Path | None = None,
) -> Stored:
    """Store ``tree``'s content and file list.

    With ``run_uuid``, the same last transaction sets that run's
    ``snapshot_id`` and ``run_fields`` (``Stored.run_updated`` is False when
    the run is not in the store yet). ``cache_file`` remembers hashes by
    file stamp between snapshots of the same root (`statcache`).
    """
    cache = statcache.load(cache_file) if cache_file else {}
    hasher = _Hasher(tree, cache)
    records = hasher.records()
    manifest = manifest_hash(records)
    added = 0
    if snapshots.find_snapshot(conn, manifest) is None:  # new code: store what is missing
        added = _store_blobs(conn, hasher)
        records = hasher.records()  # a file may have changed while being read
        manifest = manifest_hash(records)

    def finish(c: sqlite3.Connection) -> tuple[int, int, bool]:
        late = 0
        snapshot_id = snapshots.find_snapshot(c, manifest)  # its blobs are all there
        if snapshot_id is None:
            hashes = {r.hash for r in records if r.hash}
            missing = hashes - snapshots.existing_blobs(c, hashes)
            if missing:  # removed by a concurrent gc
                late = snapshots.insert_blobs(c, _restore_missing(tree.root, records, missing))
            snapshot_id = snapshots.insert_snapshot(c, manifest, str(tree.root), records)
        if run_uuid is None:
            return snapshot_id, late, False
        try:
            row_id = writer.run_row_id(c, run_uuid)
        except LookupError:
            return snapshot_id, late, False
        writer.update_run(c, row_id, snapshot_id=snapshot_id, **(run_fields or {}))
        return snapshot_id, late, True

    snapshot_id, late, updated = connection.write_transaction(conn, finish)
    if cache_file is not None and (hasher.fresh or len(cache) != len(hasher.hashed)):
        by_path = {e.path: e for e in hasher.files}
        statcache.save(cache_file, {p: (by_path[p], d) for p, (d, _) in hasher.hashed.items()})
    total = sum(r.size for r in records)
    return Stored(snapshot_id, len(records), total, added + late, updated)


def _restore_missing(
    root: Path, records: list[SnapshotFile], missing: set[str]
) -> list[tuple[str, int, bytes]]:
    out = []
    for record in records:
        if record.hash in missing:
            try:
                data = _read(root / record.path)
            except OSError as exc:
                raise StoreError(f"{record.path} vanished while being snapshotted") from exc
            if hashlib.sha256(data).hexdigest() != record.hash:
                raise StoreError(f"{record.path} changed while being snapshotted; try again")
            out.append((record.hash, len(data), compress(data)))
            missing.discard(record.hash)
    return out


def manifest_hash(records: Sequence[SnapshotFile]) -> str:
    """sha256 of the file list: same paths, contents, modes and links, same snapshot."""
    digest = hashlib.sha256()
    for r in records:
        digest.update(f"{r.path}\0{r.hash or ''}\0{r.size}\0{r.mode:o}\0{r.link or ''}\n".encode())
    return digest.hexdigest()


def choose_root(root: Path | None, git_root: str | None) -> Path:
    """The given folder, else the git root of the working folder, else the working folder."""
    chosen = root if root is not None else Path(git_root) if git_root else Path.cwd()
    chosen = chosen.expanduser()
    if not chosen.is_dir():
        raise RuntuiError(f"snapshot root {str(chosen)!r} is not a folder")
    return chosen.resolve()


def _warn(message: str) -> None:
    sys.stderr.write(f"runtui: warning: {message}\n")
    sys.stderr.flush()


def snapshot_for_run(
    run: Run, root: Path | None = None, limits: Limits | None = None
) -> Stored | None:
    """Snapshot the code of ``run`` at its start; called by `runtui.start_run`.

    Over the size cap, the run is finished ``failed`` with the reason and
    `SnapshotTooLargeError` is raised, before any training happens. Storage
    trouble only warns: the training goes on without a snapshot.
    """
    from runtui.snapshot.gitdiff import git_diff, git_root

    cwd = Path.cwd()
    try:
        limits = limits or Limits.resolve()
        folder = choose_root(root, git_root(cwd) if root is None else None)
        tree = walk(folder, exclude=[run.store_path], **limits.walk_stops())
        check(tree, limits)
    except RuntuiError as exc:
        run.finish("failed", error=str(exc))
        if isinstance(exc, SnapshotTooLargeError):
            raise
        raise RuntuiError(str(exc)) from None
    diff = git_diff(cwd)
    fields: dict[str, Any] = {"git_diff": diff} if diff else {}
    stored = None
    try:
        conn = connection.connect(run.store_path)
        try:
            stored = store_tree(
                conn, tree, run.uuid, fields, statcache.cache_path(run.store_path, tree.root)
            )
        finally:
            conn.close()
    except (sqlite3.Error, OSError, StoreError) as exc:
        _warn(f"code snapshot not stored ({exc})")
    if stored is None or not stored.run_updated:
        # the run is only in the spill file so far: its own writer carries the fields there
        if stored is not None:
            fields["snapshot_id"] = stored.snapshot_id
        if fields:
            run._queue({"op": "update", "uuid": run.uuid, "fields": fields})
    if tree.skipped:
        shown = "; ".join(tree.skipped[:3]) + (" …" if len(tree.skipped) > 3 else "")
        _warn(f"{len(tree.skipped)} path(s) left out of the code snapshot: {shown}")
    return stored
