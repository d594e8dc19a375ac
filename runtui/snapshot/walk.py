"""Listing what a snapshot would hold: a pruning walk of the root.

`os.scandir` gives each entry's type without a second ``stat``; ignored and
always-out folders are never entered. Symlinks are recorded as links
(their target text) and never followed, so a link cannot pull anything
from outside the root into a snapshot. Sockets, fifos and devices are
skipped, as git does. Names that are not valid UTF-8 cannot be stored and
are skipped with a note.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from runtui.snapshot.ignore import ALWAYS_OUT, VENV_MARKER, IgnoreRules


@dataclass(frozen=True)
class TreeEntry:
    path: str  # relative, '/'-separated
    size: int
    mode: int  # permission bits
    link: str | None = None  # symlink target, for links
    stamp: tuple[int, int, int, int] | None = None  # mtime_ns, ctime_ns, inode, size (files)


@dataclass
class Tree:
    root: Path
    rules: IgnoreRules
    entries: list[TreeEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: why", for a warning
    truncated: bool = False  # the walk stopped early: far over a cap already

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries)


def _valid_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def walk(
    root: Path,
    exclude: Iterable[Path] = (),
    stop_files: int | None = None,
    stop_bytes: int | None = None,
) -> Tree:
    """Every file and symlink under ``root`` that the ignore rules keep, in path order.

    ``stop_files`` / ``stop_bytes`` end the walk early (``Tree.truncated``)
    once that much is found: a snapshot started by mistake in a home folder
    must fail in seconds, not after listing a million files.
    """
    root = root.resolve()
    rules = IgnoreRules.for_root(root)
    tree = Tree(root, rules)
    skip_ids = set()
    for path in exclude:
        try:
            st = os.stat(path)
        except OSError:
            continue
        skip_ids.add((st.st_dev, st.st_ino))
    pending = [("", str(root))]
    size = 0
    while pending:
        if (stop_files is not None and len(tree.entries) > stop_files) or (
            stop_bytes is not None and size > stop_bytes
        ):
            tree.truncated = True
            break
        prefix, folder = pending.pop()
        try:
            with os.scandir(folder) as it:
                items = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            tree.skipped.append(f"{prefix or './'}: {exc.strerror or exc}")
            continue
        names = {e.name for e in items}
        if prefix and VENV_MARKER in names:
            continue  # a virtual environment
        rules.enter(prefix, names)
        subfolders = []
        for entry in items:
            rel = prefix + entry.name
            if entry.name in ALWAYS_OUT:
                continue
            if not _valid_name(entry.name):
                tree.skipped.append(f"{rel!r}: name is not valid UTF-8")
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                tree.skipped.append(f"{rel}: {exc.strerror or exc}")
                continue
            if stat.S_ISDIR(st.st_mode):
                if (st.st_dev, st.st_ino) in skip_ids or rules.ignored(rel + "/"):
                    continue
                subfolders.append((rel + "/", entry.path))
            elif rules.ignored(rel):
                continue
            elif stat.S_ISLNK(st.st_mode):
                try:
                    target = os.readlink(entry.path)
                except OSError as exc:
                    tree.skipped.append(f"{rel}: {exc.strerror or exc}")
                    continue
                if not _valid_name(target):
                    tree.skipped.append(f"{rel}: link target is not valid UTF-8")
                    continue
                tree.entries.append(TreeEntry(rel, len(target.encode()), 0o777, target))
                size += tree.entries[-1].size
            elif stat.S_ISREG(st.st_mode):
                stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)
                size += st.st_size
                tree.entries.append(
                    TreeEntry(rel, st.st_size, stat.S_IMODE(st.st_mode), None, stamp)
                )
        pending.extend(reversed(subfolders))
    tree.entries.sort(key=lambda e: e.path)
    return tree
