"""Reading captured run output: the tail of a big file, and what was appended since.

Files can be huge (a long training run printing every step), so nothing
here reads a whole file: `read_tail` seeks back from the end, and
`LogFollower` remembers its offset and inode and reads only new bytes,
starting over when the file was truncated or replaced. Lines come back
decoded (UTF-8, undecodable bytes replaced) with ``\\r`` redraws folded,
but not sanitized: callers choose `textsafe.plain` or a styled rendering.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import BinaryIO

from runtui.services.textsafe import fold_redraws

TAIL_CHUNK = 64 * 1024
MAX_TAIL_BYTES = 8 * 1024 * 1024  # a tail never reads further back than this
CUT_MARK = "[…] ".encode()  # starts a line whose beginning lies beyond MAX_TAIL_BYTES


def _decode(lines: list[bytes]) -> list[str]:
    return [fold_redraws(line.decode("utf-8", "replace")) for line in lines]


def tail_lines(
    f: BinaryIO, end: int, max_lines: int, max_bytes: int = MAX_TAIL_BYTES
) -> tuple[list[bytes], bytes]:
    """The last ``max_lines`` complete lines before byte ``end`` of ``f``, and the piece after.

    The piece after is the unfinished last line (``b""`` when ``end`` is just
    past a newline). At most ``max_bytes`` are read back from ``end``: a
    line cut there (a progress bar printed for hours with no newline) comes
    back with its start replaced by `CUT_MARK`. Chunks are read backwards
    and joined once, so a single 1 GB line costs ``max_bytes``, not more.
    """
    floor = max(0, end - max_bytes)
    chunks: list[bytes] = []
    pos, newlines = end, 0
    while pos > floor and newlines <= max_lines:
        step = min(TAIL_CHUNK, pos - floor)
        pos -= step
        f.seek(pos)
        chunk = f.read(step)
        chunks.append(chunk)
        newlines += chunk.count(b"\n")
    *lines, partial = b"".join(reversed(chunks)).split(b"\n")
    if pos > 0 and newlines <= max_lines:  # stopped by the byte cap, in the middle of a line
        f.seek(pos - 1)
        if f.read(1) != b"\n":
            first = lines[0] if lines else partial
            first = CUT_MARK + first if first else first
            if lines:
                lines[0] = first
            else:
                partial = first
            if lines and not lines[0]:
                del lines[0]  # nothing of that line is within the cap
    elif pos > 0 and lines:
        del lines[0]  # enough lines: the first piece starts mid-line
    return (lines[-max_lines:] if max_lines else []), partial


def read_tail(path: Path, max_lines: int = 1000) -> list[str]:
    """The last ``max_lines`` complete or trailing lines of ``path`` ([] if it does not exist)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return []
    with f:
        end = f.seek(0, os.SEEK_END)
        lines, partial = tail_lines(f, end, max_lines)
    if partial:
        lines.append(partial)
    return _decode(lines[-max_lines:]) if max_lines else []


PENDING_BYTES = 4096  # of a line being written: more than any view shows of it


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

    def pending(self) -> str:
        """The line being written (held back until its newline), as shown so far.

        A progress bar redraws it with ``\r`` many times a second and ends it
        only when done, so it can grow for hours: only what follows the last
        ``\r`` is decoded (a ``\r`` byte is never inside a UTF-8 character),
        and only its first `PENDING_BYTES`. A character cut at the end is left out.
        """
        line = self.partial.rstrip(b"\r")
        shown = line[line.rfind(b"\r") + 1 :][:PENDING_BYTES]
        return codecs.getincrementaldecoder("utf-8")("replace").decode(shown)

    def flush_partial(self) -> list[str]:
        """The held-back unfinished line, if any (when the run has ended)."""
        if not self.partial:
            return []
        line, self.partial = self.partial, b""
        return _decode([line])
