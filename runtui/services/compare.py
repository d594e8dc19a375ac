"""Comparing runs: params, tags, metric summaries and environment, key by key.

Pure functions over `RunRecord`s, shared by ``runtui diff`` (two runs, text)
and the TUI compare screen (two to eight runs, tables). A value is "the
same" in two runs when it has the same type and prints the same in full, so
``1`` and ``1.0`` differ (the config changed), as do ``0.3`` and
``0.30000000000000004``, and NaN equals NaN (nothing changed).
Deltas are always "this run minus the first run".

The side-by-side view of a code diff is built from the unified diff text of
`runtui.services.codediff.file_diff`: removed and added lines of a change
are paired up in order, as ``git difftool -y`` and most side-by-side
viewers do.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtui.store.records import MetricSummary, RunRecord

STATS = ("last", "min", "max")


class _Missing:
    """A key that a run does not have (distinct from a value of None)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


# -- values ------------------------------------------------------------------------


def same_value(x: Any, y: Any) -> bool:
    """Same type and same printed value, floats to their last digit as ``runtui show`` and
    ``ls`` print them: NaN equals NaN, while 1 differs from 1.0 and 0.3 from 0.1 + 0.2."""
    if x is MISSING or y is MISSING:
        return x is y
    return type(x) is type(y) and repr(x) == repr(y)


def same_number(x: float, y: float) -> bool:
    return x == y or (math.isnan(x) and math.isnan(y))


def delta(first: float | None, other: float | None) -> float | None:
    """``other - first``; None when either is missing, 0.0 when both are the same (NaN too)."""
    if first is None or other is None:
        return None
    if same_number(first, other):
        return 0.0
    return other - first


# -- key / value tables -----------------------------------------------------------


@dataclass(frozen=True)
class KeyRow:
    """One key across runs: ``values[i]`` is run i's value, `MISSING` where it has none."""

    section: str  # "param", "tag", "run", "git" or "env"
    key: str
    values: tuple[Any, ...]

    @property
    def differs(self) -> bool:
        first = self.values[0]
        return any(not same_value(first, v) for v in self.values[1:])


def key_rows(section: str, dicts: Sequence[Mapping[str, Any]]) -> list[KeyRow]:
    """One row per key found in any of ``dicts``, in key order."""
    keys = sorted(set().union(*(d.keys() for d in dicts)))
    return [KeyRow(section, key, tuple(d.get(key, MISSING) for d in dicts)) for key in keys]


def params_and_tags(runs: Sequence[RunRecord]) -> list[KeyRow]:
    """Params then tags; keys whose values differ come first, each group in key order."""
    rows = key_rows("param", [r.params for r in runs]) + key_rows("tag", [r.tags for r in runs])
    return [r for r in rows if r.differs] + [r for r in rows if not r.differs]


def _git_state(run: RunRecord) -> Any:
    if run.git_dirty is None:
        return MISSING
    return "dirty" if run.git_dirty else "clean"


_RUN_FIELDS: tuple[tuple[str, str, Callable[[RunRecord], Any]], ...] = (
    ("run", "argv", lambda r: shlex.join(r.command) if r.command else MISSING),
    ("run", "cwd", lambda r: r.cwd),
    ("run", "python", lambda r: r.python),
    ("run", "host", lambda r: r.host),
    ("run", "user", lambda r: r.user),
    ("git", "commit", lambda r: r.git_commit),
    ("git", "branch", lambda r: r.git_branch),
    ("git", "state", _git_state),
)


def environment_rows(runs: Sequence[RunRecord]) -> list[KeyRow]:
    """How each run ran (argv, cwd, Python, host, user, git) then its environment variables.

    Fields stay in this fixed order (it reads like the run screen's
    Environment tab); callers mark or hide the rows that do not differ.
    """
    rows = []
    for section, key, get in _RUN_FIELDS:
        values = tuple(MISSING if (v := get(r)) is None else v for r in runs)
        rows.append(KeyRow(section, key, values))
    return rows + key_rows("env", [r.env for r in runs])


# -- params as -key / +key lines (runtui diff) -------------------------------------


@dataclass(frozen=True)
class ParamChange:
    """A param that differs between two runs: ``old``/``new`` are `MISSING` when absent."""

    key: str
    old: Any
    new: Any


def param_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[ParamChange]:
    """The params that were changed, added or removed from ``old`` to ``new``, in key order."""
    return [
        ParamChange(row.key, row.values[0], row.values[1])
        for row in key_rows("param", [old, new])
        if row.differs
    ]


# -- metrics ----------------------------------------------------------------------


@dataclass(frozen=True)
class MetricRow:
    """One metric across runs: ``summaries[i]`` is None when run i never logged it."""

    name: str
    summaries: tuple[MetricSummary | None, ...]

    def value(self, run: int, stat: str) -> float | None:
        summary = self.summaries[run]
        return None if summary is None else getattr(summary, stat)

    def delta(self, run: int, stat: str) -> float | None:
        """Run ``run``'s ``stat`` minus the first run's."""
        return delta(self.value(0, stat), self.value(run, stat))

    @property
    def in_all(self) -> bool:
        return all(s is not None for s in self.summaries)

    @property
    def differs(self) -> bool:
        if not self.in_all:
            return True
        return any(
            not same_number(self.value(0, stat), self.value(i, stat))  # type: ignore[arg-type]
            for i in range(1, len(self.summaries))
            for stat in STATS
        )


def metric_rows(runs: Sequence[RunRecord]) -> list[MetricRow]:
    """One row per metric logged by any of ``runs``, in name order."""
    names = sorted(set().union(*(r.summary.keys() for r in runs)))
    return [MetricRow(name, tuple(r.summary.get(name) for r in runs)) for name in names]


# -- side by side -------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: kind is "context", "removed", "added", "hunk" or "meta"."""

    kind: str
    text: str
    old_no: int | None = None
    new_no: int | None = None


def parse_unified(text: str) -> list[DiffLine]:
    """The lines of a git-style unified diff, numbered in the old and new file."""
    out: list[DiffLine] = []
    old_no = new_no = 0
    in_hunk = False
    for line in text.split("\n"):
        if line.startswith("@@"):
            old_no, new_no = _hunk_starts(line)
            in_hunk = True
            out.append(DiffLine("hunk", line))
        elif not in_hunk or line.startswith("\\"):
            if line:
                out.append(DiffLine("meta", line))
        elif line.startswith("-"):
            out.append(DiffLine("removed", line[1:], old_no=old_no))
            old_no += 1
        elif line.startswith("+"):
            out.append(DiffLine("added", line[1:], new_no=new_no))
            new_no += 1
        elif line.startswith(" "):
            out.append(DiffLine("context", line[1:], old_no, new_no))
            old_no += 1
            new_no += 1
        elif line.startswith("diff --git"):
            in_hunk = False
            out.append(DiffLine("meta", line))
    return out


def _hunk_starts(header: str) -> tuple[int, int]:
    """``@@ -12,3 +14,4 @@`` → (12, 14)."""
    parts = header.split()
    old = parts[1][1:].split(",")[0] if len(parts) > 2 else "1"
    new = parts[2][1:].split(",")[0] if len(parts) > 2 else "1"
    return int(old or 1), int(new or 1)


@dataclass(frozen=True)
class SideRow:
    """A row of the side-by-side view: the old line on the left, the new one on the right."""

    left: DiffLine | None
    right: DiffLine | None

    @property
    def kind(self) -> str:
        """ "hunk", "meta", "context", or "changed" (a line on either side that is not context)."""
        line = self.left or self.right
        assert line is not None
        return "changed" if line.kind in ("removed", "added") else line.kind


def side_by_side(lines: Iterable[DiffLine]) -> list[SideRow]:
    """Pair each run of removed lines with the added lines that follow it."""
    rows: list[SideRow] = []
    removed: list[DiffLine] = []
    added: list[DiffLine] = []

    def flush() -> None:
        for i in range(max(len(removed), len(added))):
            rows.append(
                SideRow(
                    removed[i] if i < len(removed) else None, added[i] if i < len(added) else None
                )
            )
        removed.clear()
        added.clear()

    for line in lines:
        if line.kind == "removed":
            if added:
                flush()
            removed.append(line)
        elif line.kind == "added":
            added.append(line)
        else:
            flush()
            rows.append(SideRow(line, line))
    flush()
    return rows
