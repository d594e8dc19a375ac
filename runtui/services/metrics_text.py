"""The metrics export's points: planned in pieces, turned into text by several processes.

A point's line costs about 3 µs of Python on a small machine: fetching the
row takes about 1 µs and ``repr`` of its float (the shortest text that reads
back exactly) 0.6-0.9 µs, and the GIL keeps all of it on one core. The lines
of one stretch of points depend on no other, so a big export is cut into
pieces (`plan`) that worker processes forked from this one format at once,
each with its own connection, while the lines are written in order as they
come back (`texts`). At most a few pieces wait to be written: memory stays
flat however big the export.

Every line shows the store at one moment: the export reads inside one read
transaction (`read_snapshot`), and a worker's connection cannot share it.
So a worker only gets metrics of runs that were finished at that moment,
whose points no longer change, bounded by the step range that moment's
summary records; this process formats the runs that were still running,
inside the snapshot, and formats again any piece for which a worker found
another number of points than the snapshot holds (a run removed meanwhile).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from itertools import chain, pairwise
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from runtui.services.timetext import MinuteTexts, SecondTexts, epoch_ms
from runtui.store import export as sql

if TYPE_CHECKING:  # concurrent.futures is only imported for a parallel export
    from concurrent.futures import Executor, Future

CHUNK_ROWS = 20_000  # rows fetched and formatted at a time
PIECE_POINTS = 50_000  # points per piece of work: about 3 MB of CSV
PARALLEL_MIN_POINTS = 300_000  # below this (about a second), one process is quicker
MAX_WORKERS = 8

Nonfinite = tuple[str, str, str]  # the texts written for a NaN, +inf and -inf value


class Piece(NamedTuple):
    """Consecutive points of one metric of one run, and the line each becomes."""

    run: str  # the run's short id
    key: str  # the metric's name
    run_id: int
    key_id: int
    steps: tuple[int, int]  # first and last step, both included
    started_ms: int  # the run's start: a point's time is this plus its offset
    line: str  # the line with %s for step, minute text, second text and value
    points: int  # how many the snapshot holds
    live: bool  # the run was running: only this process may read it


class Task(NamedTuple):
    """Pieces formatted together: a few hundred small metrics, or part of a big one."""

    pieces: tuple[Piece, ...]
    points: int
    live: bool


class Stamps:
    """The texts of timestamps made so far in this process (see `runtui.services.timetext`)."""

    def __init__(self) -> None:
        self.minutes, self.seconds = MinuteTexts(), SecondTexts()


def plan(
    conn: sqlite3.Connection,
    selection: sql.Selection,
    line_of: Callable[[str, str], str],
) -> list[Task]:
    """The selected runs' points as tasks, in export order (runs oldest first,
    metrics by name, steps ascending).

    ``line_of(run, key)`` gives the line format of a metric's points (see
    `Piece.line`). A metric of more than `PIECE_POINTS` points is cut into
    step ranges, each counted in the snapshot.
    """
    tasks: list[Task] = []
    batch: list[Piece] = []
    batch_points = 0

    def close_batch() -> None:
        nonlocal batch, batch_points
        if batch:
            tasks.append(Task(tuple(batch), batch_points, batch[0].live))
        batch, batch_points = [], 0

    for series in sql.metric_series(conn, selection):
        if not series.count:
            continue
        run = series.uuid[:8]
        line = line_of(run, series.name)
        started_ms = epoch_ms(series.started_at)
        for steps, points in _step_ranges(conn, series):
            piece = Piece(
                run, series.name, series.run_id, series.key_id, steps, started_ms, line, points,
                series.live,
            )  # fmt: skip
            if batch and (batch[0].live != piece.live or batch_points + points > PIECE_POINTS):
                close_batch()
            batch.append(piece)
            batch_points += points
    close_batch()
    return tasks


def _step_ranges(
    conn: sqlite3.Connection, series: sql.SeriesRow
) -> Iterator[tuple[tuple[int, int], int]]:
    """A metric's step range, cut into ranges of about `PIECE_POINTS` points when bigger."""
    first, last = series.first_step, series.last_step
    parts = -(-series.count // PIECE_POINTS)
    if parts <= 1 or last - first + 1 < parts:
        yield (first, last), series.count
        return
    width = (last - first + 1) / parts
    bounds = [first + round(i * width) for i in range(parts)] + [last + 1]
    for low, high in pairwise(bounds):
        count = sql.points_between(conn, series.run_id, series.key_id, low, high - 1)
        if count:
            yield (low, high - 1), count


def task_text(
    conn: sqlite3.Connection, task: Task, *, nonfinite: Nonfinite, stamps: Stamps
) -> tuple[int, str]:
    """A task's lines and how many there are.

    Each chunk of lines is one ``%`` formatting of the line repeated: no
    Python bytecode per point (``%s`` of a float writes its shortest exact
    form, as ``repr`` does).
    """
    minutes, seconds = stamps.minutes.__getitem__, stamps.seconds.__getitem__
    texts, count = [], 0
    for piece in task.pieces:
        cursor = sql.metric_point_cells(
            conn,
            piece.run_id,
            piece.key_id,
            piece.steps,
            started_ms=piece.started_ms,
            nonfinite=nonfinite,
        )
        while chunk := cursor.fetchmany(CHUNK_ROWS):
            cells = list(chain.from_iterable(chunk))
            cells[1::4] = map(minutes, cells[1::4])
            cells[2::4] = map(seconds, cells[2::4])
            texts.append(piece.line * len(chunk) % tuple(cells))
            count += len(chunk)
    return count, "".join(texts)


def worker_count(points: int, jobs: int | None) -> int:
    """How many worker processes format ``points`` points: none for a small export
    (unless ``jobs`` asks), and none where processes cannot be forked cheaply."""
    if sys.platform != "linux":
        return 0  # fork is only safe to rely on here; elsewhere one process does it all
    if jobs is None:
        if points < PARALLEL_MIN_POINTS:
            return 0
        jobs = min(len(os.sched_getaffinity(0)), MAX_WORKERS)
    return jobs if jobs > 1 else 0


@contextlib.contextmanager
def worker_pool(store: Path, workers: int) -> Iterator[Executor | None]:
    """``workers`` processes forked from this one, each with its own read-only
    connection to ``store``; None when ``workers`` is 0. Stopped on leaving.

    Forked before any output is written and before any thread starts (the
    progress bar's), so a worker inherits no half-written buffer.
    """
    if not workers:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    sys.stdout.flush()
    sys.stderr.flush()
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(store,),
    )
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


_worker: tuple[sqlite3.Connection, Stamps] | None = None


def _start_worker(store: Path) -> None:
    import signal

    from runtui.store import connection

    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _worker = connection.connect(store, readonly=True), Stamps()


def _work(task: Task, nonfinite: Nonfinite) -> tuple[int, str]:
    assert _worker is not None, "not a worker process"
    conn, stamps = _worker
    return task_text(conn, task, nonfinite=nonfinite, stamps=stamps)


def texts(
    conn: sqlite3.Connection,
    tasks: Sequence[Task],
    nonfinite: Nonfinite,
    pool: Executor | None,
    workers: int,
) -> Iterator[tuple[int, str]]:
    """Each task's ``(line count, lines)``, in order; formatted by the ``workers``
    processes of ``pool`` when there is one (see the module's docstring), here otherwise.

    Whatever a worker fails to deliver (it was killed, or the pool broke) is
    formatted here: nothing is lost.
    """
    stamps = Stamps()
    here = functools.partial(task_text, conn, nonfinite=nonfinite, stamps=stamps)
    if pool is None:
        yield from map(here, tasks)
        return
    window = workers + 2  # tasks handed out and not yet written
    pending: deque[tuple[Task, Future[tuple[int, str]] | None]] = deque()
    for task in tasks:
        pending.append((task, None if task.live else _submitted(pool, task, nonfinite)))
        while len(pending) > window or (pending and pending[0][1] is None):
            yield _collected(*pending.popleft(), here)
    while pending:
        yield _collected(*pending.popleft(), here)


def _submitted(pool: Executor, task: Task, nonfinite: Nonfinite) -> Future[tuple[int, str]] | None:
    from concurrent.futures import BrokenExecutor

    try:
        return pool.submit(_work, task, nonfinite)
    except BrokenExecutor:
        return None


def _collected(
    task: Task,
    future: Future[tuple[int, str]] | None,
    here: Callable[[Task], tuple[int, str]],
) -> tuple[int, str]:
    """A task's lines from its worker or, if none could make them as the snapshot
    has them (the store changed since, the worker died), made here."""
    from concurrent.futures import BrokenExecutor

    try:
        done = future.result() if future is not None else None
    except BrokenExecutor:
        done = None
    return done if done is not None and done[0] == task.points else here(task)
