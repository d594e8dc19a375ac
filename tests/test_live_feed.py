"""The live change feed against a real training process writing into the store."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from live_writer import Writer, writers

from runtui.live import ChangeFeed, Changes, LogTail, LogUpdate
from runtui.store import location


@pytest.fixture
def start_writer(subprocess_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Writer]]:
    with writers(subprocess_env, tmp_path) as start:
        yield start


def collect(feed: ChangeFeed, until: Callable[[Changes], bool], timeout: float = 6.0) -> Changes:
    """Check the feed until what it delivered (merged) satisfies ``until``."""
    seen = Changes()
    deadline = time.monotonic() + timeout
    while True:
        seen.merge(feed.check())
        if until(seen):
            return seen
        assert time.monotonic() < deadline, f"timed out; feed delivered {seen}"
        time.sleep(0.05)


def status_of(changes: Changes, uuid: str) -> str | None:
    return next((r.status for r in changes.changed_runs if r.uuid == uuid), None)


def lines_of(changes: Changes, uuid: str) -> list[str]:
    update = changes.logs.get(uuid)
    return update.lines if update else []


def test_new_run_points_and_completion(start_writer: Callable[..., Writer], store_dir: Path):
    first = start_writer("first")
    feed = ChangeFeed(store_dir)
    feed.open()
    second = start_writer("second")

    got = collect(feed, lambda c: any(r.uuid == second.uuid for r in c.new_runs))
    assert [r.name for r in got.new_runs] == ["second"]
    assert got.new_runs[0].status == "running"

    feed.watch_points(second.uuid, after={})
    second.send("log loss 0.5", "log loss 0.25", "log acc 0.1")
    got = collect(feed, lambda c: len(c.points.get(second.uuid, {}).get("loss", [])) == 2)
    assert [(s, v) for s, _t, v in got.points[second.uuid]["loss"]] == [(0, 0.5), (1, 0.25)]

    second.send("log loss 0.125")
    got = collect(feed, lambda c: second.uuid in c.points)
    assert [(s, v) for s, _t, v in got.points[second.uuid]["loss"]] == [(2, 0.125)]
    assert first.uuid not in got.points  # only watched runs deliver points

    second.finish()
    got = collect(
        feed,
        lambda c: any(r.uuid == second.uuid and r.status == "completed" for r in c.changed_runs),
    )
    record = next(r for r in got.changed_runs if r.uuid == second.uuid)
    assert record.summary["loss"].count == 3
    assert record.summary["loss"].last == 0.125


def test_killed_run_turns_crashed(start_writer: Callable[..., Writer], store_dir: Path):
    writer = start_writer()
    feed = ChangeFeed(store_dir, reap_interval=0.1)
    feed.open()
    writer.kill()
    got = collect(feed, lambda c: any(r.status == "crashed" for r in c.changed_runs))
    assert [r.uuid for r in got.changed_runs] == [writer.uuid]
    assert feed.check().changed_runs == []  # reported once


def test_log_appends_and_the_partial_line_at_the_end(
    start_writer: Callable[..., Writer], store_dir: Path
):
    writer = start_writer()
    writer.send("print before")
    log = location.log_path(store_dir, writer.uuid)
    deadline = time.monotonic() + 5
    while b"before\n" not in (log.read_bytes() if log.exists() else b""):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    feed = ChangeFeed(store_dir)
    feed.follow_log(writer.uuid, initial_lines=10)
    first = feed.check()
    assert first.logs[writer.uuid].reset
    assert first.logs[writer.uuid].lines == ["before"]

    writer.send("print one", "print two", "write progress 10%\r", "write progress 50%")
    got = collect(feed, lambda c: lines_of(c, writer.uuid) == ["one", "two"])
    assert not got.logs[writer.uuid].reset

    writer.finish()  # the unfinished progress line is handed out when the run ends
    got = collect(feed, lambda c: lines_of(c, writer.uuid) == ["progress 50%"])


def test_truncated_and_replaced_log_start_over(
    start_writer: Callable[..., Writer], store_dir: Path
):
    writer = start_writer()
    feed = ChangeFeed(store_dir)
    feed.follow_log(writer.uuid)
    feed.check()
    writer.send("print a", "print b")
    collect(feed, lambda c: lines_of(c, writer.uuid) == ["a", "b"])
    log = location.log_path(store_dir, writer.uuid)

    os.truncate(log, 0)
    writer.send("print c")
    got = collect(feed, lambda c: lines_of(c, writer.uuid) == ["c"])
    assert got.logs[writer.uuid].reset

    replacement = log.with_suffix(".new")
    replacement.write_bytes(b"x\ny\npartial")
    os.replace(replacement, log)
    got = collect(feed, lambda c: lines_of(c, writer.uuid) == ["x", "y"])
    assert got.logs[writer.uuid].reset


def test_deleted_run_is_reported_removed(start_writer: Callable[..., Writer], store_dir: Path):
    writer = start_writer()
    writer.finish()
    feed = ChangeFeed(store_dir)
    feed.open()
    other = sqlite3.connect(location.db_path(store_dir), isolation_level=None)
    other.execute("DELETE FROM runs WHERE uuid = ?", (writer.uuid,))
    other.close()
    assert feed.check().removed_runs == [writer.uuid]


def test_nothing_changed_means_no_query_and_no_read(
    start_writer: Callable[..., Writer], store_dir: Path
):
    writer = start_writer()
    writer.finish()
    feed = ChangeFeed(store_dir)
    feed.follow_log(writer.uuid)
    feed.watch_points(writer.uuid)
    feed.check()
    statements: list[str] = []
    assert feed.store is not None
    feed.store.conn.set_trace_callback(statements.append)
    from runtui.live.watcher import Wake

    for _ in range(20):
        assert not feed.check(Wake())
    assert set(statements) == {"PRAGMA data_version"}


def test_run_loop_delivers_a_log_line_by_itself(
    start_writer: Callable[..., Writer], store_dir: Path
):
    writer = start_writer()
    feed = ChangeFeed(store_dir)
    feed.follow_log(writer.uuid)
    lines: list[str] = []
    stop = threading.Event()

    def deliver(changes: Changes) -> None:
        lines.extend(lines_of(changes, writer.uuid))

    thread = threading.Thread(target=feed.run, args=(deliver, stop))
    thread.start()
    try:
        time.sleep(0.3)  # the first wake subscribes
        writer.send("print hello")
        deadline = time.monotonic() + 3
        while "hello" not in lines:
            assert time.monotonic() < deadline, lines
            time.sleep(0.02)
        assert feed.mode == "events"
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_forced_polling_still_delivers_and_says_so(
    start_writer: Callable[..., Writer], store_dir: Path
):
    writer = start_writer()
    feed = ChangeFeed(store_dir, force_polling=True)
    feed.follow_log(writer.uuid)
    seen = Changes()
    stop = threading.Event()
    thread = threading.Thread(target=feed.run, args=(seen.merge, stop))
    thread.start()
    try:
        time.sleep(0.3)
        writer.send("print polled")
        deadline = time.monotonic() + 3
        while "polled" not in lines_of(seen, writer.uuid):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert seen.mode == "polling"
    finally:
        stop.set()
        thread.join(5)


def test_tail_of_a_file_continues_exactly_after_the_last_complete_line(tmp_path: Path):
    log = tmp_path / "run.log"
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(5000)) + b"half")
    tail = LogTail(log, initial_lines=3)
    first = tail.read()
    assert first is not None and first.reset
    assert first.lines == ["line 4997", "line 4998", "line 4999"]
    with open(log, "ab") as f:
        f.write(b" done\nnext\n")
    update = tail.read()
    assert update is not None and update.lines == ["half done", "next"]
    assert tail.read() is None


def test_the_line_being_written_comes_each_time_it_changes(tmp_path: Path):
    log = tmp_path / "run.log"
    log.write_bytes(b"start\n")
    tail = LogTail(log, initial_lines=5)

    def written(data: bytes) -> LogUpdate | None:
        with open(log, "ab") as f:
            f.write(data)
        return tail.read()

    first = tail.read()
    assert first is not None and first.lines == ["start"] and first.partial == ""
    update = written(b"\r 10%|#    |")
    assert update is not None and update.lines == [] and update.partial == " 10%|#    |"
    assert tail.read() is None  # nothing new: no update
    update = written(b"\r 50%|##   |\r 90%|#### | caf\xc3")  # a character cut in two
    assert update is not None and update.partial == " 90%|#### | caf"
    update = written(b"\xa9\n")
    assert update is not None and update.lines == [" 90%|#### | café"] and update.partial == ""
    written(b"no newline yet")
    ended = tail.finish()  # the run ended: the unfinished line is a line
    assert ended is not None and ended.lines == ["no newline yet"] and ended.partial == ""


def test_the_line_being_written_is_read_only_from_its_last_redraw(tmp_path: Path):
    from runtui.services.logs import PENDING_BYTES

    log = tmp_path / "run.log"
    log.write_bytes(b"start\n" + b"\r old redraw" * 100_000 + b"\r" + b"y" * 100_000)
    tail = LogTail(log, initial_lines=5)
    first = tail.read()
    assert first is not None and first.partial == "y" * PENDING_BYTES  # what a view can show
    log.write_bytes(b"rotated\n\r 5%")  # replaced by a shorter file: start over
    update = tail.read()
    assert update is not None and update.reset
    assert update.lines == ["rotated"] and update.partial == " 5%"
