"""The metrics export made by several processes: same bytes, one moment, no process left."""

from __future__ import annotations

import functools
import itertools
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psutil
import pytest
from cli_helpers import T0, add_run, cli, cli_process

from runtui.cli.output import NONFINITE_TEXT, metric_line
from runtui.services import metrics_text
from runtui.services.export import metrics_lines
from runtui.store import connection, writer
from runtui.store import export as export_sql
from runtui.store.export import read_snapshot, select_runs
from runtui.store.reader import open_store

NAN, INF = math.nan, math.inf
FORMATS = ["csv", "json", "jsonl", "markdown"]


@pytest.fixture
def store(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Runs whose metrics make many small pieces, and one metric cut into step ranges."""
    monkeypatch.setattr(metrics_text, "PIECE_POINTS", 7)
    add_run(store_dir, "a", started_at=T0, metrics={"loss": [0.5, NAN, INF, -INF, 0.1 + 0.2]})
    add_run(store_dir, "b|%s", started_at=T0 + 60, metrics={"long": [i / 3 for i in range(40)]})
    for n in range(4):
        add_run(store_dir, f"c{n}", started_at=T0 + 120 + n, metrics={"x": [n, n + 0.5], "=y": [1]})
    return store_dir


def _pids_of_work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Record the process id that formats each task in a file (workers are forked,
    so they run the patched function too); returns the file."""
    record = tmp_path / "pids"
    task_text = metrics_text.task_text

    def recorded(*args: object, **kwargs: object) -> object:
        with open(record, "a") as f:
            f.write(f"{os.getpid()}\n")
        return task_text(*args, **kwargs)

    monkeypatch.setattr(metrics_text, "task_text", recorded)
    return record


@pytest.mark.parametrize("fmt", FORMATS)
def test_workers_write_the_same_bytes_as_one_process(
    store: Path, fmt: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    alone = cli("export", "--what", "metrics", "--format", fmt, "--jobs", "1")
    record = _pids_of_work(monkeypatch, tmp_path)
    shared = cli("export", "--what", "metrics", "--format", fmt, "--jobs", "3")
    assert alone.exit_code == shared.exit_code == 0, shared.stderr
    assert shared.stdout == alone.stdout
    assert "nan" in alone.stdout.lower() and "inf" in alone.stdout.lower()
    workers = set(record.read_text().split())
    assert workers and str(os.getpid()) not in workers  # the work was done elsewhere


def test_a_long_metric_is_cut_into_step_ranges_that_cover_it(store: Path):
    reader = open_store(store)
    tasks = metrics_text.plan(reader.conn, select_runs(reader, None, None), lambda run, key: "")
    long = [p for t in tasks for p in t.pieces if p.key == "long"]
    assert len(long) >= 5
    assert long[0].steps[0] == 0 and long[-1].steps[1] == 39
    assert all(a.steps[1] + 1 == b.steps[0] for a, b in itertools.pairwise(long))
    assert sum(p.points for p in long) == 40
    assert all(t.points <= metrics_text.PIECE_POINTS or len(t.pieces) == 1 for t in tasks)


def test_the_export_shows_the_store_as_it_was_when_it_started(
    store: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    add_run(
        store, "live", started_at=T0 + 600, status="running", metrics={"x": [1, 2]},
        extra={"heartbeat_at": time.time()},  # alive: its points must be read in the snapshot
    )  # fmt: skip
    before = cli("export", "--what", "metrics", "--jobs", "1").stdout
    record = _pids_of_work(monkeypatch, tmp_path)
    reader = open_store(store)
    line_of = functools.partial(metric_line, "csv", escape_formulas=True)
    with (
        read_snapshot(reader.conn),
        metrics_lines(
            reader, None, None, line_of=line_of, nonfinite=NONFINITE_TEXT["csv"], jobs=2
        ) as table,
    ):
        # Meanwhile: a finished run is removed, and the running one logs on and
        # logs a step again (its value changes inside the exported step range).
        assert cli("rm", "--yes", "b|%s").exit_code == 0
        _log_to(store, "live", "x", range(1, 50), [float(s) for s in range(1, 50)])  # step 1 again
        text = "".join(piece for _, piece in table.text)
    assert "run,key,step,timestamp,value\n" + text == before
    assert set(record.read_text().split()) - {str(os.getpid())}  # workers took part
    after = cli("export", "--what", "metrics", "--jobs", "1").stdout
    assert "b|%s" not in after and len(after.splitlines()) == len(before.splitlines()) - 40 + 48


def _log_to(store: Path, run: str, metric: str, steps: Sequence[int], values: list[float]) -> None:
    """Log points to a run by name, as a resumed run or a merged spill would."""
    conn = connection.connect(store)

    def write(c: object) -> None:
        (row_id,) = conn.execute("SELECT id FROM runs WHERE name = ?", (run,)).fetchone()
        keys = writer.intern_metric_keys(c, {metric: None})
        column = writer.Column(list(steps), [s * 250 for s in steps], values)
        writer.write_points(c, row_id, {keys[metric]: column})

    connection.write_transaction(conn, write)
    conn.close()


def test_a_worker_killed_mid_export_loses_nothing(store: Path, monkeypatch: pytest.MonkeyPatch):
    alone = cli("export", "--what", "metrics", "--jobs", "1").stdout
    parent, task_text = os.getpid(), metrics_text.task_text

    def dies_in_a_worker(conn: object, task: metrics_text.Task, **kwargs: object) -> object:
        if os.getpid() != parent and task.pieces[0].run == _short_id(store, "c2"):
            os.kill(os.getpid(), signal.SIGKILL)
        return task_text(conn, task, **kwargs)

    monkeypatch.setattr(metrics_text, "task_text", dies_in_a_worker)
    shared = cli("export", "--what", "metrics", "--jobs", "2")
    assert shared.exit_code == 0, shared.stderr
    assert shared.stdout == alone
    assert psutil.Process().children() == []


def _short_id(store: Path, name: str) -> str:
    return open_store(store).run(name).uuid[:8]


def test_no_worker_outlives_the_export(store: Path):
    assert cli("export", "--what", "metrics", "--jobs", "2").exit_code == 0
    assert psutil.Process().children() == []


def test_a_piped_export_by_workers_writes_each_line_once(store: Path):
    # Real stdout: a forked worker must not write the parent's buffered output again.
    done = cli_process(
        "export", "--what", "metrics", "--jobs", "2", env={"RUNTUI_STORE": str(store)}
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines.count("run,key,step,timestamp,value") == 1
    assert len(lines) == 1 + 5 + 40 + 4 * 3


def test_jobs_must_be_a_positive_number(store: Path):
    result = cli("export", "--what", "metrics", "--jobs", "0")
    assert result.exit_code == 2
    assert "--jobs" in result.stderr


def test_a_change_that_keeps_the_point_count_is_still_read_as_it_was(
    store: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    # The newest run removed and a new one taking its row id, with metrics of the
    # same names and sizes; a finished run's step logged again with another value.
    before = cli("export", "--what", "metrics", "--jobs", "1").stdout
    record = _pids_of_work(monkeypatch, tmp_path)
    reader = open_store(store)
    line_of = functools.partial(metric_line, "csv", escape_formulas=True)
    with metrics_lines(
        reader, None, None, line_of=line_of, nonfinite=NONFINITE_TEXT["csv"], jobs=2
    ) as table:
        assert cli("rm", "--yes", "c3").exit_code == 0
        add_run(store, "impostor", started_at=T0 + 500, metrics={"x": [66.0, 67.0], "=y": [68]})
        _log_to(store, "a", "loss", steps=range(1), values=[0.75])
        text = "".join(piece for _, piece in table.text)
    assert "run,key,step,timestamp,value\n" + text == before
    assert set(record.read_text().split()) - {str(os.getpid())}  # workers took part


def test_fingerprints_read_in_batches_see_each_metric_change(
    store: Path, monkeypatch: pytest.MonkeyPatch
):
    reader = open_store(store)
    sql = "SELECT run_id, key_id FROM metric_summary ORDER BY run_id, key_id"
    metrics = reader.conn.execute(sql).fetchall()
    wanted = [*metrics, (999, 999), metrics[0]]  # one that does not exist, one asked twice
    whole = export_sql.metric_fingerprints(reader.conn, wanted)
    monkeypatch.setattr(export_sql, "FINGERPRINT_BATCH", 2)
    assert export_sql.metric_fingerprints(reader.conn, wanted) == whole
    assert all(whole[:-2]) and whole[-2] == () and whole[-1] == whole[0]
    assert len(set(whole[:-2])) == len(metrics)

    _log_to(store, "c3", "=y", steps=range(1), values=[2.0])  # the last metric, in the last batch
    after = export_sql.metric_fingerprints(reader.conn, wanted)
    changed = [m for m, a, b in zip(wanted, whole, after, strict=True) if a != b]
    assert len(changed) == 1 and changed[0] == metrics[-1]


def test_a_worker_failing_loses_nothing(store: Path, monkeypatch: pytest.MonkeyPatch):
    alone = cli("export", "--what", "metrics", "--format", "jsonl", "--jobs", "1").stdout
    parent, task_text = os.getpid(), metrics_text.task_text

    def fails_in_a_worker(*args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            raise sqlite3.OperationalError("disk I/O error")
        return task_text(*args, **kwargs)

    monkeypatch.setattr(metrics_text, "task_text", fails_in_a_worker)
    shared = cli("export", "--what", "metrics", "--format", "jsonl", "--jobs", "2")
    assert shared.exit_code == 0, shared.stderr
    assert shared.stdout == alone


def test_workers_start_before_anything_is_written(store: Path):
    reader = open_store(store)
    line_of = functools.partial(metric_line, "csv", escape_formulas=True)
    lines = metrics_lines(reader, None, None, line_of=line_of, nonfinite=("", "", ""), jobs=2)
    with lines:
        assert len(psutil.Process().children()) == 2
    assert psutil.Process().children() == []


def test_steps_far_apart_still_make_small_pieces(store_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(metrics_text, "PIECE_POINTS", 7)
    add_run(store_dir, "gappy", metrics={"m": [float(i) for i in range(100)]})
    _log_to(store_dir, "gappy", "m", steps=[10**15], values=[1.0])
    reader = open_store(store_dir)
    tasks = metrics_text.plan(reader.conn, select_runs(reader, None, None), lambda r, k: "")
    pieces = [piece for task in tasks for piece in task.pieces]
    assert sum(p.points for p in pieces) == 101
    assert max(p.points for p in pieces) <= 2 * metrics_text.PIECE_POINTS
    assert pieces[-1].points == 1 and pieces[-1].steps[1] == 10**15


def _exporting(store_dir: Path) -> tuple[subprocess.Popen[bytes], list[psutil.Process]]:
    """A real ``runtui export`` of 600,000 points with two workers, caught mid-way."""
    add_run(store_dir, "big", metrics={"a": [i / 7 for i in range(300_000)], "b": [1.5] * 300_000})
    export = subprocess.Popen(
        [sys.executable, "-m", "runtui", "export", "--what", "metrics", "--jobs", "2",
         "-o", str(store_dir / "out.csv")],
        env={**os.environ, "RUNTUI_STORE": str(store_dir)},
        stderr=subprocess.PIPE,
    )  # fmt: skip
    parent = psutil.Process(export.pid)
    deadline = time.monotonic() + 30
    while len(workers := parent.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    if len(workers) < 2 or export.poll() is not None:
        export.kill()
        _survivors(workers)
        pytest.fail("the export ended too soon, or started no workers")
    return export, workers


def test_sigterm_stops_an_export_leaving_no_file(store_dir: Path):
    export, workers = _exporting(store_dir)
    deadline = time.monotonic() + 30
    while not _files_named_out(store_dir) and time.monotonic() < deadline:
        time.sleep(0.01)  # until the temporary file is being written
    export.send_signal(signal.SIGTERM)
    _, errors = export.communicate(timeout=30)
    assert _survivors(workers) == []
    assert export.returncode == 128 + signal.SIGTERM
    assert errors == b""
    assert _files_named_out(store_dir) == []


def _files_named_out(store_dir: Path) -> list[str]:
    return [p.name for p in store_dir.iterdir() if "out.csv" in p.name]


def _survivors(workers: list[psutil.Process]) -> list[psutil.Process]:
    """Workers still alive after a few seconds; killed, so no failure leaves them behind."""
    _, alive = psutil.wait_procs(workers, timeout=10)
    for worker in alive:
        worker.kill()
    return alive


def test_workers_die_with_a_killed_export(store_dir: Path):
    export, workers = _exporting(store_dir)
    export.kill()
    export.wait()
    assert _survivors(workers) == []


def test_ctrl_c_stops_an_export_quietly_leaving_no_file(store_dir: Path):
    export, workers = _exporting(store_dir)
    export.send_signal(signal.SIGINT)
    _, errors = export.communicate(timeout=30)
    assert _survivors(workers) == []
    assert export.returncode == 130
    assert errors == b""
    assert _files_named_out(store_dir) == []
