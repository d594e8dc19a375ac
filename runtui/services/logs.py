"""Reading captured run output: the tail of a big file, and what was appended since.

Files can be huge (a long training run printing every step), so nothing
here reads a whole file: `read_tail` seeks back from the end, and
`LogFollower` remembers its offset and inode and reads only new bytes,
starting over when the file was truncated or replaced. Lines come back
decoded (UTF-8, undecodable bytes replaced) with ``\\r`` redraws folded,
but not sanitized: callers choose `textsafe.plain` or a styled rendering.
"""

from __future__ import annotations

import os
from pathlib import Path

from runtui.services.textsafe import fold_redraws

TAIL_CHUNK = 64 * 1024


def _decode(lines: list[bytes]) -> list[str]:
    return [fold_redraws(line.decode("utf-8", "replace")) for line in lines]


def read_tail(path: Path, max_lines: int = 1000) -> list[str]:
    """The last ``max_lines`` complete or trailing lines of ``path`` ([] if it does not exist)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return []
    with f:
        end = f.seek(0, os.SEEK_END)
        pos, data = end, b""
        while pos > 0 and data.count(b"\n") <= max_lines:
            step = min(TAIL_CHUNK, pos)
            pos -= step
            f.seek(pos)
            data = f.read(step) + data
    lines = data.split(b"\n")
    if pos > 0:
        lines = lines[1:]  # the first piece is a partial line
    if lines and lines[-1] == b"":
        lines.pop()
    return _decode(lines[-max_lines:]) if max_lines else []


class LogFollower:
    """Reads what was appended to a log since the last call.

    A partial last line is held back until its newline arrives. A file that
    shrank (truncated) or whose inode changed (replaced) is read again from
    the start, and `restarted` is set so the caller can clear its view.
    """

    def __init__(self, path: Path, *, from_end: bool = False) -> None:
        self.path = path
        self.offset = 0
        self.inode: int | None = None
        self.partial = b""
        self.restarted = False
        if from_end:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                return
            self.inode, self.offset = st.st_ino, st.st_size

    def read_new(self) -> list[str]:
        self.restarted = False
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return []
        if (self.inode is not None and st.st_ino != self.inode) or st.st_size < self.offset:
            self.offset, self.partial, self.restarted = 0, b"", True
        self.inode = st.st_ino
        if st.st_size == self.offset:
            return []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read(st.st_size - self.offset)
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        return _decode(lines)

    def flush_partial(self) -> list[str]:
        """The held-back unfinished line, if any (when the run has ended)."""
        if not self.partial:
            return []
        line, self.partial = self.partial, b""
        return _decode([line])
