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
So a worker only gets metrics of runs that were finished at that moment
(their points seldom change after), with the fingerprint of each metric at
that moment (`metric_fingerprints`: its run and its summary, which the
writer updates with the points). The worker reads the fingerprints and the
points in one read transaction of its own and hands a task back unformatted
if any fingerprint differs (a run removed, its id reused, points merged or
logged again); this process then formats it inside the snapshot, as it
does the runs that were still running and any task a worker failed on.
One change escapes the fingerprint: a step of a finished run logged again
with the very same value and only a new time, by a writer that leaves the
run's row as it was; the line then shows the new time.
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
    """A metric's step range, cut into ranges of about `PIECE_POINTS` points when bigger.

    Cut evenly by step first (steps are mostly dense); a range that still
    holds too many points (steps far apart elsewhere) is halved until not.
    """
    first, last = series.first_step, series.last_step
    parts = -(-series.count // PIECE_POINTS)
    if parts <= 1 or last - first + 1 < parts:
        yield (first, last), series.count
        return
    width = (last - first + 1) / parts
    bounds = [first + round(i * width) for i in range(parts)] + [last + 1]
    count_of = functools.partial(sql.points_between, conn, series.run_id, series.key_id)
    for low, high in pairwise(bounds):
        yield from _halved(count_of, low, high - 1, count_of(low, high - 1))


def _halved(
    count_of: Callable[[int, int], int], low: int, high: int, count: int
) -> Iterator[tuple[tuple[int, int], int]]:
    """Steps ``low`` to ``high`` (``count`` points), halved while over twice `PIECE_POINTS`."""
    if not count:
        return
    if count <= 2 * PIECE_POINTS or low == high:
        yield (low, high), count
        return
    middle = (low + high) // 2
    below = count_of(low, middle)
    yield from _halved(count_of, low, middle, below)
    yield from _halved(count_of, middle + 1, high, count - below)


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
    connection to ``store``; None when ``workers`` is 0. Stopped on leaving,
    and when this process dies.

    Forked here, before any output is written and before any thread starts
    (the progress bar's), so a worker inherits no half-written buffer.
    """
    if not workers:
        yield None
        return
    import multiprocessing
    from concurrent.futures import BrokenExecutor, ProcessPoolExecutor

    sys.stdout.flush()
    sys.stderr.flush()
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(store, os.getpid()),
    )
    try:
        try:
            pool.submit(int).result()  # with fork, the first task starts every worker
        except BrokenExecutor:  # they could not start: this process does it all
            yield None
        else:
            yield pool
    finally:
        pool.shutdown(cancel_futures=True)


_worker: tuple[sqlite3.Connection, Stamps] | None = None
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _start_worker(store: Path, parent: int) -> None:
    import ctypes
    import signal

    from runtui.store import connection

    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # whatever the parent does with it
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)  # die with the parent...
    if os.getppid() != parent:  # ...even if it died before this line
        os._exit(1)
    _worker = connection.connect(store, readonly=True), Stamps()


def _work(task: Task, nonfinite: Nonfinite, fingerprints: list[tuple]) -> tuple[int, str] | None:
    """The task's lines, or None if a metric is no longer as the parent's snapshot has it."""
    assert _worker is not None, "not a worker process"
    conn, stamps = _worker
    with sql.read_snapshot(conn):
        if _fingerprints(conn, task) != fingerprints:
            return None
        return task_text(conn, task, nonfinite=nonfinite, stamps=stamps)


def _fingerprints(conn: sqlite3.Connection, task: Task) -> list[tuple]:
    return sql.metric_fingerprints(conn, [(piece.run_id, piece.key_id) for piece in task.pieces])


def texts(
    conn: sqlite3.Connection,
    tasks: Sequence[Task],
    nonfinite: Nonfinite,
    pool: Executor | None,
    workers: int,
) -> Iterator[tuple[int, str]]:
    """Each task's ``(line count, lines)``, in order; formatted by the ``workers``
    processes of ``pool`` when there is one (see the module's docstring), here otherwise.

    Whatever a worker does not deliver as the snapshot has it (the store
    changed, the worker failed or was killed) is formatted here: nothing is lost.
    """
    stamps = Stamps()
    here = functools.partial(task_text, conn, nonfinite=nonfinite, stamps=stamps)
    if pool is None:
        yield from map(here, tasks)
        return
    window = workers + 2  # tasks handed out and not yet written
    pending: deque[tuple[Task, Future[tuple[int, str] | None] | None]] = deque()
    for task in tasks:
        future = None if task.live else _submitted(pool, task, nonfinite, _fingerprints(conn, task))
        pending.append((task, future))
        while len(pending) > window or (pending and pending[0][1] is None):
            yield _collected(*pending.popleft(), here)
    while pending:
        yield _collected(*pending.popleft(), here)


def _submitted(
    pool: Executor, task: Task, nonfinite: Nonfinite, fingerprints: list[tuple]
) -> Future[tuple[int, str] | None] | None:
    from concurrent.futures import BrokenExecutor

    try:
        return pool.submit(_work, task, nonfinite, fingerprints)
    except BrokenExecutor:
        return None


def _collected(
    task: Task,
    future: Future[tuple[int, str] | None] | None,
    here: Callable[[Task], tuple[int, str]],
) -> tuple[int, str]:
    """A task's lines from its worker or, if it could not make them as the snapshot
    has them, made here (where an error that is the store's own is raised)."""
    try:
        done = future.result() if future is not None else None
    except Exception:  # the worker's failure, whatever it was: the task is done here
        done = None
    return done if done is not None else here(task)
