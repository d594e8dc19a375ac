"""The snapshot size cap, and a message that says how to get under it.

Defaults follow Azure ML's snapshot limit of 300 MB; the file-count cap is
10,000 files (code folders rarely come close; data folders do). Both can be
set per call (``runtui run --snapshot-max-mb``) or by environment variable,
``RUNTUI_SNAPSHOT_MAX_MB`` and ``RUNTUI_SNAPSHOT_MAX_FILES``; 0 turns a cap off.

Over a cap, the error names what set the cap, the largest files and folders,
and the lines to add to ``.runtuiignore`` that would bring the snapshot
under it: the smallest single folder, file or ``*.ext`` pattern big enough,
so the suggestion takes out as little as possible; else the biggest, then
again on what is left, up to `MAX_LINES` lines. When that many would not
do, the message says so rather than suggest lines that would not help.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pathspec import GitIgnoreSpec

from runtui.errors import RuntuiError
from runtui.services.textsafe import plain
from runtui.snapshot.ignore import GITIGNORE, RUNTUIIGNORE
from runtui.snapshot.walk import Tree, TreeEntry

DEFAULT_MAX_MB = 300.0
DEFAULT_MAX_FILES = 10_000
ENV_MAX_MB = "RUNTUI_SNAPSHOT_MAX_MB"
ENV_MAX_FILES = "RUNTUI_SNAPSHOT_MAX_FILES"
MAX_LINES = 5  # a longer list of ignore lines is no advice: raise the cap instead
_MB = 1_000_000
_CODE_SUFFIXES = {".py", ".ipynb", ".sh", ".cfg", ".toml", ".yaml", ".yml", ".json", ".txt"}
_RECIPE_SUFFIXES = _CODE_SUFFIXES - {".json", ".txt"}  # never advised away: what the run ran
_WAYS_OUT = "raise the cap, or turn snapshots off (snapshot=False, runtui run --no-snapshot)"
_GLOB_CHARS = str.maketrans({c: "\\" + c for c in "\\*?["})


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
    bytes_origin: str  # what set each cap, as the over-the-cap message names it
    files_origin: str

    @classmethod
    def resolve(
        cls,
        max_mb: float | None = None,
        max_files: int | None = None,
        options: tuple[str, str] | None = None,
    ) -> Limits:
        """Arguments first, then the environment, then the defaults.

        ``options`` names the command-line options the arguments came from
        (``("--max-mb", "--max-files")``), so a message can name them.
        """
        mb = max_mb if max_mb is not None else _env_number(ENV_MAX_MB, float, DEFAULT_MAX_MB)
        files = (
            max_files
            if max_files is not None
            else _env_number(ENV_MAX_FILES, int, DEFAULT_MAX_FILES)
        )
        if not math.isfinite(mb) or mb < 0 or files < 0:
            raise RuntuiError("snapshot caps must be 0 (no cap) or a positive number")
        mb_option, files_option = options or (None, None)
        return cls(
            int(mb * _MB) or None,
            int(files) or None,
            _origin(max_mb is not None, mb_option, ENV_MAX_MB),
            _origin(max_files is not None, files_option, ENV_MAX_FILES),
        )

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


def _origin(given: bool, option: str | None, env: str) -> str:
    """What set a cap: the option or variable the user used, or the default and how to change it."""
    if given:
        return f"set by {option or 'the caller'}"
    if os.environ.get(env, "").strip():
        return f"set by {env}"
    return f"the default; {f'{option} or ' if option else ''}{env} sets another"


def _literal(path: str) -> str:
    """``path`` as ignore-file text matching only itself (glob characters, trailing spaces)."""
    text = path.translate(_GLOB_CHARS)
    kept = text.rstrip(" ")
    return kept + "\\ " * (len(text) - len(kept))


def _candidates(entries: Sequence[TreeEntry], weight: str) -> dict[str, tuple[int, int]]:
    """Ignore-file lines and what each would take out: (bytes or files, bytes)."""
    out: dict[str, list[int]] = {}
    for entry in entries:
        amount = entry.size if weight == "bytes" else 1
        parts = entry.path.split("/")
        lines = ["/" + _literal("/".join(parts[:depth])) + "/" for depth in range(1, len(parts))]
        name = parts[-1]
        suffix = name[name.rindex(".") :].lower() if "." in name.lstrip(".") else ""
        if suffix not in _RECIPE_SUFFIXES:
            lines.append("/" + _literal(entry.path))
        if suffix and suffix not in _CODE_SUFFIXES:
            lines.append("*" + _literal(name[name.rindex(".") :]))
        for line in lines:
            tally = out.setdefault(line, [0, 0])
            tally[0] += amount
            tally[1] += entry.size
    return {line: (n, size) for line, (n, size) in out.items()}


def _rank(line: str) -> int:
    """On a tie, a folder reads best, then a pattern, then one file."""
    return 0 if line.endswith("/") else 1 if line.startswith("*") else 2


def _cost(line: str, weight: str) -> int:
    """What writing ``line`` into the ignore file adds to the snapshot (it is snapshotted too)."""
    return len(line.encode()) + 1 if weight == "bytes" else 0


def _pick(candidates: dict[str, tuple[int, int]], need: int, weight: str) -> str:
    """Of the lines that take out ``need`` on their own, the one taking out least; if
    none does, the one taking out most. On a tie, `_rank` decides, then (for a
    file cap) the line taking out more bytes."""
    enough = [
        (n, _rank(line), -size, line)
        for line, (n, size) in candidates.items()
        if n - _cost(line, weight) >= need
    ]
    if enough:
        return min(enough)[3]
    return min((-n, _rank(line), -size, line) for line, (n, size) in candidates.items())[3]


def _suggest(tree: Tree, excess: int, weight: str) -> list[str] | None:
    """Lines for ``.runtuiignore`` that together take out ``excess`` (bytes or files).

    Each line is checked with the ignore-file matcher itself, and what the
    lines add back counts: their own bytes, and one file when the ignore
    file is new. None when `MAX_LINES` lines would not be enough.
    """
    if weight == "files":  # a new ignore file is one more file
        need = excess + all(e.path != RUNTUIIGNORE for e in tree.entries)
    else:  # an existing ignore file may lack its last newline
        need = excess + 1
    left = [e for e in tree.entries if e.path != RUNTUIIGNORE]  # never advise ignoring it
    lines: list[str] = []
    while need > 0 and len(lines) < MAX_LINES:
        candidates = _candidates(left, weight)
        if not candidates:
            return None
        line = _pick(candidates, need, weight)
        spec = GitIgnoreSpec.from_lines([line])
        kept = [e for e in left if not spec.match_file(e.path)]
        taken = len(left) - len(kept) if weight == "files" else _size(left) - _size(kept)
        if taken <= _cost(line, weight):
            return None
        need -= taken - _cost(line, weight)
        left = kept
        lines.append(line)
    return lines if need <= 0 else None


def _size(entries: Sequence[TreeEntry]) -> int:
    return sum(e.size for e in entries)


def _largest(tree: Tree) -> str:
    files = sorted(tree.entries, key=lambda e: -e.size)[:3]
    folders: Counter[str] = Counter()
    for entry in tree.entries:
        if "/" in entry.path:
            folders[entry.path.split("/", 1)[0] + "/"] += entry.size
    text = "largest files: " + ", ".join(f"{plain(e.path)} ({human_size(e.size)})" for e in files)
    if folders:
        text += "; largest folders: " + ", ".join(
            f"{plain(name)} ({human_size(size)})" for name, size in folders.most_common(3)
        )
    return text


def _advice(tree: Tree, lines: list[str] | None) -> str:
    """Which lines to add where, or plainly that no few lines would do; then the other ways out."""
    ignore_file = tree.root / RUNTUIIGNORE
    if lines is None:
        return f"no {MAX_LINES} lines or fewer in {ignore_file} would get it under: {_WAYS_OUT}"
    listed = ", ".join(f"'{plain(line)}'" for line in lines)  # as typed, not repr's \\
    where = f"add the line{'s' if len(lines) > 1 else ''} {listed} to {ignore_file}"
    if tree.rules.source == GITIGNORE:
        where += " (a .runtuiignore replaces .gitignore for snapshots: start from a copy)"
    if tree.truncated:
        where += " (the listing stopped early: check again with runtui snapshot --dry-run)"
    return f"{where}, {_WAYS_OUT}"


def check(tree: Tree, limits: Limits) -> None:
    """Raise `SnapshotTooLargeError` when ``tree`` is over a cap."""
    total, count = tree.total_size, len(tree.entries)
    more = "more than " if tree.truncated else ""
    if limits.max_bytes is not None and total > limits.max_bytes:
        over = (
            f"{more}{human_size(total)} in {count:,} files, over the "
            f"{human_size(limits.max_bytes)} cap ({limits.bytes_origin})"
        )
        lines = _suggest(tree, total - limits.max_bytes, "bytes")
    elif limits.max_files is not None and count > limits.max_files:
        over = (
            f"{more}{count:,} files, over the {limits.max_files:,}-file cap ({limits.files_origin})"
        )
        lines = _suggest(tree, count - limits.max_files, "files")
    else:
        return
    raise SnapshotTooLargeError(
        f"code snapshot of {tree.root} is {over}; {_largest(tree)}; {_advice(tree, lines)}"
    )
