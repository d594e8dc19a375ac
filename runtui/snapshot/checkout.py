"""Restoring a snapshot into a folder, and never anywhere else.

The stored paths are not trusted: a store may come from another machine.
Before anything is written, every entry is checked:

* a path is relative, ``/``-separated, with no empty, ``.`` or ``..`` part
  and no NUL;
* no entry lies *under* a file or a symlink of the same snapshot (``a`` a
  link to ``/etc``, then ``a/passwd``), so nothing is ever written through
  a link;
* every blob is present;
* with ``--force``, nothing already in the target folder is in the way (a
  folder where a file goes, a file or link where a folder goes).

Then the writing itself goes folder by folder through file descriptors
opened with ``O_NOFOLLOW`` (``openat``-style ``dir_fd`` calls), so a symlink
already sitting in the target folder (with ``--force``) cannot redirect a
write either; files are created with ``O_EXCL | O_NOFOLLOW`` after removing
whatever was there, and symlinks are made last. Each file's content is
checked against its sha256 before it is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

from runtui.errors import RuntuiError
from runtui.store import snapshots
from runtui.store.snapshots import SnapshotFile

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


class UnsafeSnapshotError(RuntuiError):
    """A stored path would write outside the target folder, or through a link."""


@dataclass(frozen=True)
class Restored:
    files: int
    links: int
    size: int


def check_entries(entries: list[SnapshotFile]) -> None:
    """Refuse a file list that could write outside the folder it is restored into."""
    kinds: dict[str, bool] = {}  # path -> is a leaf (file or link)
    for entry in entries:
        path = entry.path
        if not isinstance(path, str) or not path or "\0" in path:
            raise UnsafeSnapshotError(f"refusing snapshot: invalid stored path {path!r}")
        if path.startswith("/") or os.path.isabs(path):
            raise UnsafeSnapshotError(f"refusing snapshot: absolute stored path {path!r}")
        parts = path.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise UnsafeSnapshotError(f"refusing snapshot: stored path {path!r} leaves its folder")
        if entry.link is None and not entry.hash:
            raise UnsafeSnapshotError(f"refusing snapshot: {path!r} has no content")
        if entry.link is not None and "\0" in entry.link:
            raise UnsafeSnapshotError(f"refusing snapshot: {path!r} has an invalid link target")
        kinds[path] = True
    for path in kinds:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in kinds:
                raise UnsafeSnapshotError(
                    f"refusing snapshot: {path!r} lies under {parent!r}, which is a file or a link"
                )


def _is_empty(folder: Path) -> bool:
    with os.scandir(folder) as it:
        return next(it, None) is None


class _Folders:
    """Descriptors of the folders written into, opened without following links."""

    def __init__(self, root_fd: int, dest: Path) -> None:
        self.fds: dict[str, int] = {"": root_fd}
        self.dest = dest

    def fd(self, folder: str) -> int:
        if folder in self.fds:
            return self.fds[folder]
        parent, _, name = folder.rpartition("/")
        parent_fd = self.fd(parent)
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o777, dir_fd=parent_fd)
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except OSError as exc:  # ELOOP / ENOTDIR: a link or a file is in the way
            raise RuntuiError(
                f"cannot restore into {self.dest / folder}: it exists and is not a folder "
                f"(a symlink or a file); remove it first"
            ) from exc
        self.fds[folder] = fd
        return fd

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)


def _clear(name: str, dir_fd: int, shown: Path) -> None:
    """Remove a file or link at ``name`` (never following it); refuse a folder."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise RuntuiError(f"cannot restore {shown}: a folder is in the way")
    os.unlink(name, dir_fd=dir_fd)


def check_target(dest: Path, entries: list[SnapshotFile]) -> None:
    """Refuse, before anything is written, a target where some entry cannot go.

    With ``--force`` a file or link in the way is replaced, but a folder
    where a file goes, or a file or symlink where a folder goes, is an error:
    finding it halfway would leave a half-restored tree.
    """
    kinds: dict[str, bool | None] = {}  # relative path -> is a real folder (None: absent)

    def is_folder(rel: str) -> bool | None:
        if rel not in kinds:
            try:
                st = os.lstat(dest / rel)
            except FileNotFoundError:
                kinds[rel] = None
            else:
                kinds[rel] = stat.S_ISDIR(st.st_mode)
        return kinds[rel]

    for entry in entries:
        parts = entry.path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            found = is_folder(parent)
            if found is None:
                break  # created by the restore: nothing below it exists
            if not found:
                raise RuntuiError(
                    f"cannot restore into {dest / parent}: it exists and is not a folder "
                    f"(a symlink or a file); remove it first"
                )
        else:
            if is_folder(entry.path):
                raise RuntuiError(
                    f"cannot restore {dest / entry.path}: a folder is in the way; remove it first"
                )


def restore(
    conn: sqlite3.Connection, snapshot_id: int, dest: Path, *, force: bool = False
) -> Restored:
    """Write snapshot ``snapshot_id`` into ``dest`` (created if missing)."""
    entries = snapshots.snapshot_files(conn, snapshot_id)
    check_entries(entries)
    hashes = {e.hash for e in entries if e.hash}
    missing = hashes - snapshots.existing_blobs(conn, hashes)
    if missing:
        raise RuntuiError(
            f"the store is missing {len(missing)} file(s) of this snapshot "
            f"(was `runtui gc` interrupted?)"
        )
    if dest.exists() and not dest.is_dir():
        raise RuntuiError(f"{dest} exists and is not a folder")
    if dest.is_dir() and not _is_empty(dest) and not force:
        raise RuntuiError(f"{dest} is not empty (use --force to restore into it anyway)")
    if dest.is_dir():
        check_target(dest, entries)
    dest.mkdir(parents=True, exist_ok=True)
    folders = _Folders(os.open(dest, _DIR_FLAGS & ~getattr(os, "O_NOFOLLOW", 0)), dest)
    files = links = size = 0
    try:
        modes = {e.path: e.mode for e in entries if e.link is None}
        for path, digest, packed in snapshots.snapshot_contents(conn, snapshot_id):
            data = zlib.decompress(packed or b"")
            if hashlib.sha256(data).hexdigest() != digest:
                raise RuntuiError(f"stored content of {path} is corrupt (hash mismatch)")
            parent, _, name = path.rpartition("/")
            dir_fd = folders.fd(parent)
            _clear(name, dir_fd, dest / path)
            fd = os.open(name, _FILE_FLAGS, 0o600, dir_fd=dir_fd)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, modes[path] & 0o777)
            finally:
                os.close(fd)
            files += 1
            size += len(data)
        for entry in entries:
            if entry.link is None:
                continue
            parent, _, name = entry.path.rpartition("/")
            dir_fd = folders.fd(parent)
            _clear(name, dir_fd, dest / entry.path)
            os.symlink(entry.link, name, dir_fd=dir_fd)
            links += 1
    finally:
        folders.close()
    return Restored(files, links, size)
