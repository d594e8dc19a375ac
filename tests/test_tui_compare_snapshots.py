"""Pictures of each compare tab at a fixed size, from fixed data and a fixed clock.

Update after an intended change with ``pytest tests/test_tui_compare_snapshots.py
--snapshot-update`` and look at the new SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from compare_data import NOW, UUIDS, build_store
from textual.app import App

from runtui.tui.app import RuntuiApp
from runtui.tui.screens.compare import CompareScreen
from runtui.tui.widgets.compare_chart import OverlayChart
from runtui.tui.widgets.compare_code import CompareCode

SIZE = (120, 36)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return build_store(tmp_path / "store")


def chart_shows(metric: str) -> Callable[[App], bool]:  # type: ignore[type-arg]
    return lambda app: any(c.metric == metric and c.curves for c in app.screen.query(OverlayChart))


def code_shows(path: str) -> Callable[[App], bool]:  # type: ignore[type-arg]
    """True once ``path``'s diff is shown syntax-highlighted (a thread highlights it)."""

    def shows(app: App) -> bool:  # type: ignore[type-arg]
        views = [c.diff_view for c in app.screen.query(CompareCode) if c.shown == path]
        return any(v.diff is not None and v.diff.highlighted for v in views)

    return shows


def compare(  # type: ignore[no-untyped-def]
    store: Path,
    keys: list[str],
    ready: Callable[[App], bool] | None = None,  # type: ignore[type-arg]
    runs: str = "AB",
):
    """A `run_before` that opens the compare screen of ``runs`` and presses ``keys``."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await app.push_screen(
            CompareScreen(store, [UUIDS[label] for label in runs], clock=lambda: NOW)
        )
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        for _ in range(150):  # thread workers (chart points, code diff) report back
            if ready is None or ready(app):
                break
            await pilot.pause(0.02)
        await pilot.pause()

    return run_before


def app_for(store: Path) -> RuntuiApp:
    return RuntuiApp(store, clock=lambda: NOW)


def test_params_tab(snap_compare, store: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_for(store), terminal_size=SIZE, run_before=compare(store, []))


def test_params_tab_equal_hidden_three_runs(snap_compare, store: Path) -> None:  # type: ignore[no-untyped-def]
    run_before = compare(store, ["e"], runs="ABC")
    assert snap_compare(app_for(store), terminal_size=SIZE, run_before=run_before)


def test_metrics_tab(snap_compare, store: Path) -> None:  # type: ignore[no-untyped-def]
    run_before = compare(store, ["2", "j", "j", "j", "j", "j", "j"], ready=chart_shows("loss"))
    assert snap_compare(app_for(store), terminal_size=SIZE, run_before=run_before)


def test_code_tab_unified(snap_compare, store: Path) -> None:  # type: ignore[no-untyped-def]
    run_before = compare(store, ["3", "]", "]", "]"], ready=code_shows("train.py"))
    assert snap_compare(app_for(store), terminal_size=SIZE, run_before=run_before)


def test_code_tab_side_by_side(snap_compare, store: Path) -> None:  # type: ignore[no-untyped-def]
    run_before = compare(store, ["3", "]", "]", "]", "s"], ready=code_shows("train.py"))
    assert snap_compare(app_for(store), terminal_size=SIZE, run_before=run_before)


def test_environment_tab(snap_compare, store: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_for(store), terminal_size=SIZE, run_before=compare(store, ["4"]))
