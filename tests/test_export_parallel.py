"""The metrics export made by several processes: same bytes, one moment, no process left."""

from __future__ import annotations

import functools
import itertools
import math
import os
import signal
import time
from pathlib import Path

import psutil
import pytest
from cli_helpers import T0, add_run, cli, cli_process

from runtui.cli.output import NONFINITE_TEXT, metric_line
from runtui.services import metrics_text
from runtui.services.export import metrics_lines
from runtui.store import connection, writer
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
    live = add_run(
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
        _log_more(store, live, steps=range(1, 50))  # step 1 logged again, with 1.0
        text = "".join(piece for _, piece in table.text)
    assert "run,key,step,timestamp,value\n" + text == before
    assert set(record.read_text().split()) - {str(os.getpid())}  # workers took part
    after = cli("export", "--what", "metrics", "--jobs", "1").stdout
    assert "b|%s" not in after and len(after.splitlines()) == len(before.splitlines()) - 40 + 48


def _log_more(store: Path, run_uuid: str, steps: range) -> None:
    conn = connection.connect(store)

    def write(c: object) -> None:
        (row_id,) = conn.execute("SELECT id FROM runs WHERE uuid = ?", (run_uuid,)).fetchone()
        keys = writer.intern_metric_keys(c, {"x": None})
        values = [float(s) for s in steps]
        column = writer.Column(list(steps), [s * 250 for s in steps], values)
        writer.write_points(c, row_id, {keys["x"]: column})

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
