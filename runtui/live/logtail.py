"""Following one run's log: its last lines first, then what is appended.

`LogTail` wraps `services.logs.LogFollower` (which reads appended bytes and
notices truncation and replacement) and adds what a live view needs on top:

* the first read returns the last ``initial_lines`` complete lines, and the
  follower continues exactly after them, so no line is lost or shown twice
  between "load the tail" and "follow";
* when the file was truncated or replaced, the next read starts over from
  the new file's tail (bounded: a replaced 1 GB file is not read whole) and
  says ``reset`` so the view clears itself first;
* a line still being written (a progress bar redrawn with ``\r``) comes as
  `LogUpdate.partial`, again each time it changes, until its newline makes
  it one of the lines; `finish` hands it out as a line once the run has ended.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from runtui.services.logs import LogFollower, tail_lines
from runtui.services.textsafe import fold_redraws

RESTART_LINES = 1000  # lines kept from a replaced/truncated file when no tail size was asked


@dataclass
class LogUpdate:
    """New lines of one log. ``reset``: clear what is shown before adding ``lines``.

    ``partial``: the line being written after them, as shown so far ("" when none).
    """

    lines: list[str] = field(default_factory=list)
    reset: bool = False
    partial: str = ""

    def merge(self, later: LogUpdate, keep: int | None = None) -> None:
        """Append a later update (a reset drops what came before it); keep the last ``keep``."""
        self.partial = later.partial
        if later.reset:
            self.lines, self.reset = list(later.lines), True
        else:
            self.lines.extend(later.lines)
        self.keep_last(keep)

    def keep_last(self, keep: int | None) -> None:
        """Drop all but the last ``keep`` lines (None: keep all)."""
        if keep is not None and len(self.lines) > keep:
            del self.lines[: len(self.lines) - keep]
            self.reset = True  # older lines were dropped: the view must start over


def _decode(raw: list[bytes]) -> list[str]:
    return [fold_redraws(line.decode("utf-8", "replace")) for line in raw]


def _tail_until(path: Path, end: int, max_lines: int) -> tuple[list[bytes], bytes]:
    """The last ``max_lines`` complete lines before byte ``end``, and the partial one after."""
    with open(path, "rb") as f:
        return tail_lines(f, end, max_lines)


class LogTail:
    """Reads a log as it grows; see the module docstring.

    Following begins when the object is made: lines written after that are
    delivered even if the first `read` comes later.
    """

    def __init__(self, path: Path, initial_lines: int = 0) -> None:
        self.path = path
        self.initial_lines = initial_lines
        self._follower: LogFollower | None = None
        self._partial = ""  # the line in progress as last handed out
        try:
            st = os.stat(path)
            self._start: tuple[int, int] | None = (st.st_ino, st.st_size)
        except FileNotFoundError:
            self._start = None

    def read(self) -> LogUpdate | None:
        """What is new since the last call, or None when nothing is."""
        update = self._read()
        partial = self._follower.pending() if self._follower is not None else ""
        if update is None and partial == self._partial:
            return None
        self._partial = partial
        update = update or LogUpdate()
        update.partial = partial
        return update

    def _read(self) -> LogUpdate | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        follower = self._follower
        if follower is None:
            return self._first_read(st)
        if st is None:
            return None
        if (follower.inode is not None and st.st_ino != follower.inode) or (
            st.st_size < follower.offset
        ):
            lines = max(self.initial_lines, RESTART_LINES)
            return self._start_at_tail(st.st_ino, st.st_size, lines, reset=True)
        if st.st_size == follower.offset:
            return None
        lines = follower.read_new()
        return LogUpdate(lines) if lines else None

    def _first_read(self, st: os.stat_result | None) -> LogUpdate | None:
        follower = self._follower = LogFollower(self.path)
        reset = bool(self.initial_lines)
        start = self._start
        if st is None:
            return LogUpdate(reset=True) if reset else None
        if start is None:  # created after following began: all of it is new
            update = LogUpdate(follower.read_new(), reset)
        elif start[0] != st.st_ino or start[1] > st.st_size:  # replaced meanwhile
            lines = max(self.initial_lines, RESTART_LINES)
            update = self._start_at_tail(st.st_ino, st.st_size, lines, reset=True)
        else:
            update = self._start_at_tail(*start, self.initial_lines, reset=reset)
            update.lines.extend(follower.read_new())
        return update if update.lines or update.reset else None

    def _start_at_tail(self, inode: int, size: int, max_lines: int, *, reset: bool) -> LogUpdate:
        follower = self._follower
        assert follower is not None
        try:
            raw, partial = _tail_until(self.path, size, max_lines)
        except FileNotFoundError:
            raw, partial = [], b""
        follower.inode, follower.offset, follower.partial = inode, size, partial
        return LogUpdate(_decode(raw), reset=reset)

    def finish(self) -> LogUpdate | None:
        """Anything appended, then the unfinished last line: for a run that has ended."""
        update = self.read() or LogUpdate()
        if self._follower is not None:
            update.lines.extend(self._follower.flush_partial())
        had_partial, update.partial, self._partial = bool(self._partial), "", ""
        return update if update.lines or update.reset or had_partial else None
