"""Reading the tail of a captured log: last lines, bounded work on endless lines."""

from __future__ import annotations

import time
from pathlib import Path

from runtui.live import LogTail
from runtui.services.logs import CUT_MARK, MAX_TAIL_BYTES, read_tail

MARK = CUT_MARK.decode()


def test_last_lines_across_chunks_with_the_unfinished_one(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_bytes(b"".join(b"line %d %s\n" % (i, b"x" * 50) for i in range(20_000)) + b"tail")
    assert read_tail(log, 3) == [f"line 19998 {'x' * 50}", f"line 19999 {'x' * 50}", "tail"]
    assert read_tail(log, 0) == []
    assert read_tail(tmp_path / "missing.log", 5) == []


def test_one_endless_progress_bar_line_is_read_quickly_and_shown_cut(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    bar = b"\r1999999/2000000 [#########.]" * 1_000_000
    log.write_bytes(b"start\n" + bar + b"\r2000000/2000000 [done]\n")  # ~29 MB, one line
    started = time.perf_counter()
    (line,) = read_tail(log, 50)
    took = time.perf_counter() - started
    assert took < 2.0  # it used to take many seconds, growing with the square of the size
    assert line == "2000000/2000000 [done]"  # the redraws folded to the last one
    plain = tmp_path / "plain.log"  # a cut line keeps its end and is marked at its start
    plain.write_bytes(b"a" * (MAX_TAIL_BYTES + 100) + b"END\nnext\n")
    first, second = read_tail(plain, 10)
    assert first.startswith(MARK) and first.endswith("aaaEND") and second == "next"
    assert len(first) == MAX_TAIL_BYTES - len("\nnext\n") + len(MARK)


def test_live_tail_of_an_endless_line_is_the_same_bounded_read(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_bytes(b"b" * (MAX_TAIL_BYTES + 10) + b"\nlast\n")
    update = LogTail(log, initial_lines=5).read()
    assert update is not None
    first, second = update.lines
    assert first.startswith(MARK) and first.endswith("bbb") and second == "last"
