"""SVG snapshots of the run screen at a fixed size, from fixed data and a fixed clock.

Update after an intended change with ``pytest tests/test_tui_run_snapshots.py
--snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from run_screen_data import HOSTILE, TRACEBACK, RunApp, acc_curve, add_run, loss_curve

RUN = "11111111-2222-4333-8444-555555555555"
SIZE = (120, 34)


@pytest.fixture(autouse=True)
def _fixed_place_and_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("HOME", str(tmp_path))  # paths render as ~/store/...
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _wait_for_workers():  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


def test_metrics_tab(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_run(
        tmp_path / "store",
        RUN,
        metrics={"loss": loss_curve(500), "acc": acc_curve(500), "lr": [0.1] * 250 + [0.01] * 250},
    )
    app = RunApp(tmp_path / "store", RUN)
    assert snap_compare(app, terminal_size=SIZE, run_before=_wait_for_workers())


def test_enlarged_smoothed_log_scale_chart_against_time(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_run(tmp_path / "store", RUN, metrics={"loss": loss_curve(500)})
    app = RunApp(tmp_path / "store", RUN)
    keys = ["enter", "x", "l", "plus", "plus", "plus"]
    assert snap_compare(app, press=keys, terminal_size=SIZE, run_before=_wait_for_workers())


def test_failed_run_with_its_error_open(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_run(tmp_path / "store", RUN, name="diverged", status="failed", error=TRACEBACK)
    app = RunApp(tmp_path / "store", RUN)
    assert snap_compare(app, press=["e"], terminal_size=SIZE, run_before=_wait_for_workers())


def test_logs_with_hostile_lines_and_a_search(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = [f"step {i}: loss={v:.4f}" for i, v in enumerate(loss_curve(60))]
    log += [
        "\x1b[31mred\x1b[0m \x1b]2;PWNED\x07title \x1b[1;1Hmove \x1b[2Jclear",
        "epoch 3 10%|#         |\repoch 3 100%|##########|",
        HOSTILE,
    ]
    add_run(tmp_path / "store", RUN, name=HOSTILE, log=log, params={HOSTILE: HOSTILE})
    app = RunApp(tmp_path / "store", RUN)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("2")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("slash", *"step 5", "enter")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_params_tab_with_hostile_keys(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    add_run(
        tmp_path / "store",
        RUN,
        params={HOSTILE: 1, "lr": 3e-4, "layers": [64, 128], "opt": {"name": "adam", "[/]": 1}},
        tags={"[red]team": "[/]", "baseline": ""},
    )
    app = RunApp(tmp_path / "store", RUN)
    assert snap_compare(app, press=["3"], terminal_size=SIZE, run_before=_wait_for_workers())
