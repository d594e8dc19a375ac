"""The snapshot size cap, and a message that says how to get under it.

Defaults follow Azure ML's snapshot limit of 300 MB; the file-count cap is
10,000 files (code folders rarely come close; data folders do). Both can be
set per call (``runtui run --snapshot-max-mb``) or by environment variable,
``RUNTUI_SNAPSHOT_MAX_MB`` and ``RUNTUI_SNAPSHOT_MAX_FILES``; 0 turns a cap off.

Over a cap, the error names the largest files and folders and one line to
add to ``.runtuiignore`` that would bring the snapshot under it: the
smallest single folder, file or ``*.ext`` pattern big enough, so the
suggestion takes out as little as possible.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

from runtui.errors import RuntuiError
from runtui.snapshot.ignore import RUNTUIIGNORE
from runtui.snapshot.walk import Tree

DEFAULT_MAX_MB = 300.0
DEFAULT_MAX_FILES = 10_000
ENV_MAX_MB = "RUNTUI_SNAPSHOT_MAX_MB"
ENV_MAX_FILES = "RUNTUI_SNAPSHOT_MAX_FILES"
_MB = 1_000_000
_CODE_SUFFIXES = {".py", ".ipynb", ".sh", ".cfg", ".toml", ".yaml", ".yml", ".json", ".txt"}


class SnapshotTooLargeError(RuntuiError):
    """The code under the snapshot root is over the size or file-count cap."""


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Limits:
    max_bytes: int | None  # None: no cap
    max_files: int | None

    @classmethod
    def resolve(cls, max_mb: float | None = None, max_files: int | None = None) -> Limits:
        """Arguments first, then the environment, then the defaults."""
        mb = max_mb if max_mb is not None else _env_number(ENV_MAX_MB, float, DEFAULT_MAX_MB)
        files = (
            max_files
            if max_files is not None
            else _env_number(ENV_MAX_FILES, int, DEFAULT_MAX_FILES)
        )
        if mb < 0 or files < 0:
            raise RuntuiError("snapshot caps must be 0 (no cap) or positive")
        return cls(int(mb * _MB) or None, int(files) or None)

    def walk_stops(self) -> dict[str, int | None]:
        """Where a walk can stop: well past a cap, the answer (and the advice) is known."""
        return {
            "stop_files": None if self.max_files is None else self.max_files * 4,
            "stop_bytes": None if self.max_bytes is None else self.max_bytes * 4,
        }

    def describe(self) -> str:
        size = "no size cap" if self.max_bytes is None else f"cap {human_size(self.max_bytes)}"
        files = "no file cap" if self.max_files is None else f"{self.max_files:,} files"
        return f"{size}, {files}"


def _env_number(name: str, kind: type, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return kind(text)
    except ValueError:
        raise RuntuiError(f"{name}={text!r} is not a number") from None


def _candidates(tree: Tree, weight: str) -> dict[str, int]:
    """Ignore-file lines and what each would take out (bytes or files)."""
    folders: Counter[str] = Counter()
    suffixes: Counter[str] = Counter()
    out: dict[str, int] = {}
    for entry in tree.entries:
        amount = entry.size if weight == "bytes" else 1
        parts = entry.path.split("/")
        for depth in range(1, len(parts)):
            folders["/" + "/".join(parts[:depth]) + "/"] += amount
        name = parts[-1]
        if "." in name.lstrip("."):
            suffix = name[name.rindex(".") :]
            if suffix.lower() not in _CODE_SUFFIXES:
                suffixes["*" + suffix] += amount
        if weight == "bytes":
            out["/" + entry.path] = amount
    out.update(folders)
    out.update(suffixes)
    return out


def _rank(line: str) -> int:
    """On a tie, a folder reads best, then a pattern, then one file."""
    return 0 if line.endswith("/") else 1 if line.startswith("*") else 2


def _suggest(tree: Tree, excess: int, weight: str) -> str:
    candidates = _candidates(tree, weight)
    enough = [(n, _rank(line), line) for line, n in candidates.items() if n >= excess]
    if enough:
        return min(enough)[2]
    return max((n, -_rank(line), line) for line, n in candidates.items())[2]


def _largest(tree: Tree) -> str:
    files = sorted(tree.entries, key=lambda e: -e.size)[:3]
    folders: Counter[str] = Counter()
    for entry in tree.entries:
        if "/" in entry.path:
            folders[entry.path.split("/", 1)[0] + "/"] += entry.size
    text = "largest files: " + ", ".join(f"{e.path} ({human_size(e.size)})" for e in files)
    if folders:
        text += "; largest folders: " + ", ".join(
            f"{name} ({human_size(size)})" for name, size in folders.most_common(3)
        )
    return text


def check(tree: Tree, limits: Limits) -> None:
    """Raise `SnapshotTooLargeError` when ``tree`` is over a cap."""
    total, count = tree.total_size, len(tree.entries)
    more = "more than " if tree.truncated else ""
    if limits.max_bytes is not None and total > limits.max_bytes:
        over = (
            f"{more}{human_size(total)} in {count:,} files, over the "
            f"{human_size(limits.max_bytes)} cap ({ENV_MAX_MB})"
        )
        line = _suggest(tree, total - limits.max_bytes, "bytes")
    elif limits.max_files is not None and count > limits.max_files:
        over = f"{more}{count:,} files, over the {limits.max_files:,}-file cap ({ENV_MAX_FILES})"
        line = _suggest(tree, count - limits.max_files, "files")
    else:
        return
    ignore_file = tree.root / RUNTUIIGNORE
    where = f"add the line {line!r} to {ignore_file}"
    if tree.rules.source != RUNTUIIGNORE:
        where += " (a .runtuiignore replaces .gitignore for snapshots: start from a copy)"
    raise SnapshotTooLargeError(
        f"code snapshot of {tree.root} is {over}; {_largest(tree)}; {where}, "
        f"raise the cap, or turn snapshots off (snapshot=False, runtui run --no-snapshot)"
    )
