"""`runtui demo`: the store it builds is what a first-time user should see."""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtui import liveness
from runtui.cli.main import main
from runtui.demo import build as demo_build
from runtui.demo.runs import PROJECTS
from runtui.services.textsafe import display_line
from runtui.store import location
from runtui.store.reader import open_store
from runtui.store.records import RunRecord

LIVE_SECONDS = 1.5


def _kill(pid: int | None) -> None:
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@dataclass
class Demo:
    store: Path
    output: str
    live: list[RunRecord]  # the runs still running right after the build


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    """One demo store for the module (building costs seconds); its live writer is killed at
    the end whatever happens."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        result = CliRunner().invoke(
            main,
            [
                "demo",
                "--no-ui",
                "--live",
                "--store",
                str(store),
                "--live-seconds",
                str(LIVE_SECONDS),
            ],
        )
        live: list[RunRecord] = []
        if location.db_path(store).exists():
            with open_store(store, readonly=True) as opened:
                live = opened.runs(filter="status=running")
        try:
            assert result.exit_code == 0, result.output
            yield Demo(store, result.output, live)
        finally:
            for pid in {r.pid for r in live}:
                _kill(pid)


def test_builds_three_experiments_and_forty_runs_with_every_status(demo: Demo) -> None:
    store, output = demo.store, demo.output
    assert output.strip().splitlines()[-1] == str(store)  # --no-ui prints the path
    with open_store(store, readonly=True) as opened:
        experiments = opened.experiments()
        runs = opened.runs()
    assert len(experiments) >= 3
    assert "Finetune Bert-Large" in {e.name for e in experiments}
    assert len(runs) >= 40
    statuses = {r.status for r in runs} | {r.status for r in demo.live}
    assert {"completed", "failed", "crashed", "canceled", "running"} <= statuses
    for run in runs:
        if run.status == "failed":
            assert run.error.startswith("Traceback (most recent call last):")
            assert run.error.splitlines()[-1].split(":")[0].endswith(("Error", "KeyError"))
    crashed = next(r for r in runs if r.status == "crashed")
    assert crashed.summary["loss"].count > 10  # it logged for a while before it was killed
    assert not liveness.owner_alive(crashed.pid, None)


def test_runs_are_spread_over_past_days_with_sweeps_and_tags(demo: Demo) -> None:
    store = demo.store
    with open_store(store, readonly=True) as opened:
        runs = opened.runs(experiment="Finetune Bert-Large")
        baseline = opened.runs(filter="tag:baseline")
        nlp = opened.count_runs(filter="tags.team=nlp")
    assert {r.params["lr"] for r in runs} >= {1e-5, 2e-5, 3e-5, 5e-5}
    assert {r.params["batch_size"] for r in runs} >= {32, 64}
    assert len({r.params.get("warmup_steps") for r in runs}) >= 3
    assert baseline and nlp >= 20
    now = time.time()
    ages = [now - r.started_at for r in runs if r.status != "running"]
    assert max(ages) > 3 * 24 * 3600
    for run in runs:
        if run.ended_at is not None:
            assert run.ended_at > run.started_at


def test_metric_histories_look_like_training_curves(demo: Demo) -> None:
    store = demo.store
    with open_store(store, readonly=True) as opened:
        runs = opened.runs(filter="status=completed")
        for run in runs:
            losses = [v for _s, _t, v in run.history("loss")]
            tenth = max(1, len(losses) // 10)
            if "collapsed" in (run.notes or "").lower():
                continue  # the run whose lr was too high learns nothing, on purpose
            assert statistics.mean(losses[-tenth:]) < 0.6 * statistics.mean(losses[:tenth]), run
            steps = [s for s, _t, _v in run.history("loss")]
            assert steps == sorted(steps) and steps[-1] > 10 * steps[0]
            times = [t for _s, t, _v in run.history("loss")]
            assert times[-1] > 60_000  # points spread over the run, not all at its start
        bert = opened.run("sweep-lr3e-5-w1000")
        lr = [v for _s, _t, v in bert.history("lr")]
        assert lr.index(max(lr)) not in (0, len(lr) - 1)  # warmup, then decay
        acc = [v for _s, _t, v in bert.history("val_acc")]
        assert acc[-1] > acc[0] + 0.3
        nan_run = opened.run("smooth-adam-lr0.05")
        assert nan_run.status == "failed" and "nan" in nan_run.error


def test_logs_hold_progress_bars_and_the_seed_lines(demo: Demo) -> None:
    store = demo.store
    with open_store(store, readonly=True) as opened:
        runs = opened.runs()
        logs = {r.name: read_log(store, r) for r in runs}
    assert all(logs.values())
    cifar = logs["tutorial-baseline"]
    assert "Files already downloaded and verified\n" in cifar
    assert "epoch=1, batch= 2000: loss " in cifar
    bar_lines = [line for line in cifar.split("\n") if "\r" in line]
    assert any("%|" in display_line(line) for line in bar_lines)
    failed = logs["bert-bs64"]
    assert failed.rstrip().endswith("to avoid fragmentation.")


def test_code_differs_between_versions():
    from runtui.demo import sources

    v1 = sources.project_files("bert", PROJECTS[1].VERSIONS["v1"])
    v3 = sources.project_files("bert", PROJECTS[1].VERSIONS["v3"])
    assert v1.keys() == v3.keys()
    assert "clip_grad_norm_" in v3["train.py"] and "clip_grad_norm_" not in v1["train.py"]
    assert v1["data.py"] == v3["data.py"]
    for text in (*v1.values(), *v3.values()):
        assert "[+" not in text and "[-" not in text


def test_plans_are_deterministic_given_a_seed():
    def digest(seed: int) -> list[tuple]:
        out = []
        for plan in demo_build.plans(seed):
            series = next(p for p in PROJECTS if plan.project == p.PROJECT).series(plan)
            out.append((plan.name, tuple(plan.params.items()), series["loss"][1][:5]))
        return out

    assert digest(7) == digest(7)
    assert digest(7) != digest(8)


def test_live_runs_keep_logging_then_stop_by_themselves(demo: Demo) -> None:
    store = demo.store
    live = demo.live
    assert len(live) == 2 and live[0].pid == live[1].pid
    pid = live[0].pid
    deadline = time.monotonic() + LIVE_SECONDS + 8
    while liveness.owner_alive(pid, None) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not liveness.owner_alive(pid, None), "the live writer did not stop by itself"
    with open_store(store, readonly=True) as opened:
        done = [opened.run(r.uuid) for r in live]
    for before, after in zip(live, done, strict=True):
        assert after.status == "completed"
        logged_at_start = before.summary["loss"].count if "loss" in before.summary else 0
        assert after.summary["loss"].count > logged_at_start
        assert read_log(store, after).count("\r") > 3


def read_log(store: Path, run: RunRecord) -> str:
    """The log as written (text mode would turn each \\r into a newline)."""
    return location.log_path(store, run.uuid).read_bytes().decode("utf-8")


def test_refuses_a_folder_that_is_not_a_demo_store(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "notes.txt").write_text("mine\n")
    result = CliRunner().invoke(main, ["demo", "--no-ui", "--store", str(real)])
    assert result.exit_code == 2
    assert "not a demo store" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in real.iterdir()) == ["notes.txt"]


def test_rebuilding_a_demo_store_replaces_it(tmp_path):
    store = tmp_path / "demo"
    demo_build.prepare(store)
    location.log_path(store, "old").parent.mkdir(parents=True)
    location.log_path(store, "old").write_text("stale\n")
    demo_build.prepare(store)
    assert not location.log_path(store, "old").exists()
    assert (store / demo_build.MARKER).is_file()


def test_no_ui_starts_no_live_runs_and_a_rebuild_replaces_the_store(tmp_path):
    store = tmp_path / "demo"
    counts = []
    for _ in range(2):
        result = CliRunner().invoke(main, ["demo", "--no-ui", "--store", str(store)])
        assert result.exit_code == 0, result.output
        assert "of them live" not in result.output
        with open_store(store, readonly=True) as opened:
            counts.append(opened.count_runs())
            assert not opened.runs(filter="status=running")
    assert counts[0] == counts[1] == 42  # the history alone, once
