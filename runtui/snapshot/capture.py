"""Taking a snapshot: hash the files, store new content, record the file list.

The work is split so the store's write lock is held only for SQL:

1. take each file's hash from the stat cache (`statcache`), or read the
   file once and hash it (in the calling thread: for code-sized files a
   thread hand-off costs more than the hash);
2. per chunk of read files, ask the store in one query which hashes it
   already holds, and hand only the new content to a small thread pool that
   compresses it (level 1, or level 0 for content that does not compress,
   which zlib would otherwise crawl through; ISA-L's zlib when installed,
   else the standard library's; both release the GIL);
3. meanwhile insert the compressed blobs as they come back, in
   transactions of about `INSERT_BYTES`, so SQLite writes while zlib works;
4. in one last transaction, record the file list under its manifest hash
   (an identical list reuses the existing snapshot row) and point the run
   at it. That transaction re-checks that every blob is present, so a
   ``runtui gc`` that ran in between cannot leave a snapshot with holes.

Unchanged code therefore costs one read and hash per file (none with the
stat cache) and zero new blob bytes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui.errors import RuntuiError, StoreError
from runtui.snapshot import statcache
from runtui.snapshot.limits import Limits, SnapshotTooLargeError, check
from runtui.snapshot.walk import Tree, TreeEntry, walk
from runtui.store import connection, snapshots, writer
from runtui.store.snapshots import SnapshotFile

try:  # ISA-L writes the same zlib format about 3x faster (0.2 s for 50 MB instead of 0.65)
    from isal import isal_zlib as _deflate
except ImportError:  # a platform without its wheels: the standard library's zlib
    _deflate = zlib

if TYPE_CHECKING:
    from runtui.tracking.run import Run

INSERT_BYTES = 4 << 20  # compressed bytes per blob transaction
KEEP_BYTES = 16 << 20  # content read but not compressed yet, at most
_CHUNK_BYTES = 1 << 20  # read content handed to the pool per task
_CHUNK_FILES = 256  # files per task (and per "which are stored?" query)
_SAMPLE = 64 << 10
_WORKERS = min(4, os.cpu_count() or 1)

Blob = tuple[str, int, bytes]  # (sha256, uncompressed size, zlib data)


@dataclass(frozen=True)
class Stored:
    snapshot_id: int
    files: int
    total_size: int
    new_blob_bytes: int  # compressed bytes this snapshot added to the store
    run_updated: bool = False


def _read(path: str | Path, size: int = -1) -> bytes:
    """The file's bytes, refusing to follow a symlink swapped in since the walk.

    ``size`` is the size the walk saw (saves an ``fstat``); a file that grew
    since is still read to its end.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        want = (os.fstat(fd).st_size if size < 0 else size) + 1
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
        if len(_deflate.compress(sample, 1)) > 0.9 * len(sample):
            return zlib.compress(data, 0)
    return _deflate.compress(data, 1)


def _compress_all(items: list[tuple[str, bytes]]) -> list[Blob]:
    return [(digest, len(data), compress(data)) for digest, data in items]


class _Hasher:
    """Hashes of a tree's files: from the stat cache, else read by `read`."""

    def __init__(self, tree: Tree, cache: statcache.Cache) -> None:
        self.tree = tree
        self._root = str(tree.root)
        self.files = [e for e in tree.entries if e.link is None]
        self.hashed: dict[str, tuple[str, int]] = {}  # path -> (sha256, size)
        self.unknown: list[TreeEntry] = []  # files the cache does not vouch for
        for entry in self.files:
            digest = statcache.lookup(cache, entry)
            if digest is None:
                self.unknown.append(entry)
            else:
                self.hashed[entry.path] = (digest, entry.size)
        self.fresh = len(self.unknown)  # files read because the cache did not know them

    def read(self, entry: TreeEntry) -> tuple[str, bytes] | None:
        """Read and hash one file; a file that cannot be read is left out with a note."""
        try:
            data = _read(os.path.join(self._root, entry.path), entry.size)
        except OSError as exc:
            self.tree.skipped.append(f"{entry.path}: {exc.strerror or exc}")
            self.hashed.pop(entry.path, None)
            return None
        digest = hashlib.sha256(data).hexdigest()
        self.hashed[entry.path] = (digest, len(data))
        return digest, data

    def records(self) -> list[SnapshotFile]:
        return [
            SnapshotFile(e.path, None, e.size, e.mode, e.link)
            if e.link is not None
            else SnapshotFile(e.path, *self.hashed[e.path], e.mode)
            for e in self.tree.entries
            if e.link is not None or e.path in self.hashed
        ]


class _Packer:
    """Compresses new content in a thread pool and inserts it as it comes back."""

    def __init__(self, conn: sqlite3.Connection, pool: ThreadPoolExecutor) -> None:
        self.conn = conn
        self.pool = pool
        self.seen: set[str] = set()  # stored already, or on its way
        self.inflight: deque[tuple[Future[list[Blob]], int]] = deque()
        self.inflight_bytes = 0
        self.batch: list[Blob] = []
        self.pending = 0
        self.added = 0

    def offer(self, items: list[tuple[str, bytes]]) -> None:
        """Queue the content among ``items`` that the store lacks (one query)."""
        fresh = {d: data for d, data in items if d not in self.seen}
        self.seen.update(fresh)
        for digest in snapshots.existing_blobs(self.conn, fresh):
            del fresh[digest]
        if fresh:
            size = sum(len(data) for data in fresh.values())
            self.inflight.append((self.pool.submit(_compress_all, list(fresh.items())), size))
            self.inflight_bytes += size
        while self.inflight and (self.inflight[0][0].done() or self.inflight_bytes > KEEP_BYTES):
            self._collect()

    def _collect(self) -> None:
        future, size = self.inflight.popleft()
        self.inflight_bytes -= size
        for blob in future.result():
            self.batch.append(blob)
            self.pending += len(blob[2])
        if self.pending >= INSERT_BYTES:
            self._insert()

    def _insert(self) -> None:
        batch, self.batch, self.pending = self.batch, [], 0
        self.added += connection.write_transaction(
            self.conn, lambda c: snapshots.insert_blobs(c, batch)
        )

    def finish(self) -> int:
        while self.inflight:
            self._collect()
        if self.batch:
            self._insert()
        return self.added


def _chunks(hasher: _Hasher, entries: Iterable[TreeEntry]) -> Iterable[list[tuple[str, bytes]]]:
    """Read content in chunks of about `_CHUNK_BYTES` / `_CHUNK_FILES`."""
    chunk: list[tuple[str, bytes]] = []
    size = 0
    for entry in entries:
        item = hasher.read(entry)
        if item is None:
            continue
        chunk.append(item)
        size += len(item[1])
        if size >= _CHUNK_BYTES or len(chunk) >= _CHUNK_FILES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _store_blobs(conn: sqlite3.Connection, hasher: _Hasher, then: Callable[[], None]) -> int:
    """Read the files the cache does not vouch for, store the content the store lacks.

    A file whose hash came from the cache but whose blob is gone (a ``gc``
    dropped it) is read again. ``then`` is called once every file is read,
    while the pool still compresses the last of it. Returns the compressed
    bytes added. On an error the queued work is dropped and the pool stopped.
    """
    cached = {hasher.hashed[e.path][0] for e in hasher.files if e.path in hasher.hashed}
    have = snapshots.existing_blobs(conn, cached)
    unknown = {e.path for e in hasher.unknown}
    to_read = [
        e
        for e in hasher.files
        if e.path in unknown or (e.path in hasher.hashed and hasher.hashed[e.path][0] not in have)
    ]
    pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="runtui-snapshot")
    try:
        packer = _Packer(conn, pool)
        packer.seen.update(have)
        for chunk in _chunks(hasher, to_read):
            packer.offer(chunk)
        then()
        return packer.finish()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
    added = 0
    records: list[SnapshotFile] = []
    manifest = ""

    def list_files() -> None:
        nonlocal records, manifest
        records = hasher.records()
        manifest = manifest_hash(records)
        if cache_file is not None and (hasher.fresh or len(cache) != len(hasher.hashed)):
            by_path = {e.path: e for e in hasher.files}
            statcache.save(cache_file, {p: (by_path[p], d) for p, (d, _) in hasher.hashed.items()})

    if not hasher.unknown:  # every hash from the cache: maybe a snapshot we already have
        list_files()
    if not manifest or snapshots.find_snapshot(conn, manifest) is None:
        # read what the cache does not know, store what is new; list the files meanwhile
        added = _store_blobs(conn, hasher, list_files)

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
    total = sum(r.size for r in records)
    return Stored(snapshot_id, len(records), total, added + late, updated)


def _restore_missing(
    root: Path, records: list[SnapshotFile], missing: set[str]
) -> list[tuple[str, int, bytes]]:
    out = []
    for record in records:
        if record.hash in missing:
            try:
                data = _read(os.path.join(root, record.path))
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
