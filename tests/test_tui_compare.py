"""The compare screen driven like a user would: marks, `d`, `b`, tabs and toggles, headless."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import add_run
from compare_data import NOW, RUNS, UUIDS, build_store
from textual.widgets import DataTable, Static
from tui_helpers import shown_text, until

from runtui.tui.app import RuntuiApp
from runtui.tui.screens.compare import CompareScreen
from runtui.tui.screens.main import MainScreen
from runtui.tui.widgets.compare_chart import OverlayChart
from runtui.tui.widgets.compare_code import CompareCode
from runtui.tui.widgets.compare_table import CompareTable
from runtui.tui.widgets.runs_table import RunsTable

SIZE = (140, 40)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return build_store(tmp_path / "store")


def make_app(store: Path) -> RuntuiApp:
    return RuntuiApp(store, clock=lambda: NOW)


def cells(table: DataTable, row: int) -> list[str]:  # type: ignore[type-arg]
    return [str(getattr(c, "plain", c)).rstrip() for c in table.get_row_at(row)]


def column(table: DataTable, index: int) -> list[str]:  # type: ignore[type-arg]
    return [cells(table, r)[index] for r in range(table.row_count)]


async def go_to(pilot, app: RuntuiApp, label: str) -> None:  # type: ignore[no-untyped-def]
    """Put the runs table's cursor on run ``label`` (A, B, C, D)."""
    table = app.screen.query_one(RunsTable)
    while table.current_record().uuid != UUIDS[label]:  # type: ignore[union-attr]
        await pilot.press("j")


def last_notice(app: RuntuiApp) -> str:
    return list(app._notifications)[-1].message


async def test_mark_two_runs_and_compare_params(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await go_to(pilot, app, "B")
        await pilot.press("space")  # marks B, cursor moves on
        await go_to(pilot, app, "A")
        await pilot.press("space", "d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert [r.uuid for r in screen.runs] == [UUIDS["A"], UUIDS["B"]]  # oldest first
        params = screen.query_one("#cmp-params-view", CompareTable)
        table = params.table
        keys = column(table, 2)
        # differing keys first (params, then tags), each in key order; equal ones after
        assert keys == ["batch_size", "lr", "wd", "epochs", "optimizer", "note", "team"]
        assert cells(table, 0)[0] == "≠" and cells(table, 3)[0] == ""
        assert cells(table, 2)[3:] == ["–", "0.01"]  # wd: not set in A
        assert cells(table, 5)[3:] == [RUNS["A"]["tags"]["note"]] * 2  # markup shown literally
        await pilot.press("e")
        assert column(params.table, 2) == ["batch_size", "lr", "wd"]
        assert "4 equal hidden" in str(params.query_one(".compare-summary", Static).render())
        await pilot.press("e")
        assert params.table.row_count == 7
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_metrics_tab_deltas_and_overlay_toggles(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CompareScreen(store, [UUIDS["A"], UUIDS["B"], UUIDS["C"]]))
        await pilot.pause()
        await pilot.press("2")
        screen = app.screen
        table = screen.query_one("#cmp-metrics-table", DataTable)
        assert table.has_focus
        assert column(table, 1)[::3] == ["acc", "grad_norm", "loss"]
        assert column(table, 2)[:3] == ["last", "min", "max"]
        loss_last = cells(table, 6)
        a, b, c = (RUNS[k]["metrics"]["loss"][-1] for k in "ABC")
        assert loss_last[3] == f"{a:.4g}"
        assert loss_last[5] == f"{b - a:+.4g}" and loss_last[7] == f"{c - a:+.4g}"
        assert cells(table, 3)[3] == "–" and cells(table, 3)[6] == "–"  # grad_norm: B only
        chart = screen.query_one(OverlayChart)
        await until(pilot, lambda: chart.curves)
        assert chart.metric == "acc"
        assert [(c.label, c.series.total) for c in chart.curves] == [
            ("A", 50),
            ("B", 60),
            ("C", 40),
        ]
        await pilot.press("j", "j", "j")  # to grad_norm: only B logged it
        await until(pilot, lambda: chart.metric == "grad_norm")
        assert [c.series is not None for c in chart.curves] == [False, True, False]
        status = str(screen.query_one(".compare-chart-status", Static).render())
        assert "not logged by A, C" in status
        await pilot.press("x", "l", "plus")
        assert (chart.x_axis, chart.log_y, chart.smoothing) == ("time", True, 0.3)
        status = str(screen.query_one(".compare-chart-status", Static).render())
        assert "x: time" in status and "log-y" in status and "smoothing 0.3" in status
        legend = str(screen.query_one(".compare-legend", Static).render())
        assert "A resnet-lr0.1 (cyan)" in legend and "C resnet-lr0.05" in legend
        await pilot.press("3")  # three runs: no code diff, a note says why
        assert not screen.query(CompareCode)
        await pilot.press("f")  # not a binding here: nothing happens


async def test_code_and_environment_tabs(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CompareScreen(store, [UUIDS["A"], UUIDS["B"]]))
        await pilot.pause()
        await pilot.press("3")
        code = app.screen.query_one(CompareCode)
        await until(pilot, lambda: code.shown is not None)
        files = code.files
        assert files.has_focus
        assert [row.split() for row in shown_text(files).splitlines()] == [
            ["file", "lines"],
            ["M", "config.yaml", "+1", "-1"],
            ["A", "new_utils.py", "+2", "-0"],
            ["D", "old_utils.py", "+0", "-2"],
            ["M", "train.py", "+3", "-2"],
            ["M", "weights.bin", "binary"],
        ]
        log = code.diff_view
        assert code.shown == "config.yaml"
        assert "-batch_size: 32" in shown_text(log) and "+batch_size: 64" in shown_text(log)
        await pilot.press("[")  # wraps around to the last file
        await pilot.pause()
        assert code.shown == "weights.bin"
        assert "Binary files a/weights.bin and b/weights.bin differ" in shown_text(log)
        await pilot.press("]", "]", "]", "]")
        await pilot.pause()
        assert code.shown == "train.py"
        text = shown_text(log)
        assert "-LR = 0.1" in text and "+LR = 0.2" in text and "+WD = 0.01" in text
        assert "[red]x[/]" in text and "\x1b" not in text and "pwned" not in text
        await pilot.press("s")
        await pilot.pause()
        text = shown_text(log)
        assert code.side_by_side
        row = next(line for line in text.splitlines() if "LR = 0.1" in line)
        assert "-LR = 0.1" in row and "+LR = 0.2" in row  # old left, new right, one row
        assert "side by side" in str(code.query_one(".compare-summary", Static).render())
        await pilot.press("4")
        env = app.screen.query_one("#cmp-env-view", CompareTable)
        await pilot.press("e")
        rows = {cells(env.table, r)[2]: cells(env.table, r)[3:] for r in range(env.table.row_count)}
        assert rows == {
            "argv": ["python train.py --lr 0.1", "python train.py --lr 0.2 --wd 0.01"],
            "commit": ["1" * 40, "2" * 40],
            "state": ["clean", "dirty"],
            "CUDA_VISIBLE_DEVICES": ["0", "1"],
        }


async def test_base_then_d_compares_cursor_run_with_base(store: Path) -> None:
    app = RuntuiApp(store, clock=lambda: NOW)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("d")  # nothing marked, no base
        assert isinstance(app.screen, MainScreen)
        assert "Mark 2 to 8 runs" in last_notice(app)
        await go_to(pilot, app, "C")
        await pilot.press("b", "d")  # the cursor is still on the base
        assert isinstance(app.screen, MainScreen)
        assert "base resnet-lr0.05" in str(app.screen.query_one("#view-status").render())
        await go_to(pilot, app, "A")
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        assert [r.uuid for r in app.screen.runs] == [UUIDS["C"], UUIDS["A"]]


async def test_one_marked_run_is_not_enough_palette_opens_compare(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("space", "d")
        assert isinstance(app.screen, MainScreen)
        assert "1 run marked" in last_notice(app)
        # the palette's "open compare" does what d does
        from runtui.tui.commands import RunsCommands

        screen = app.screen
        assert isinstance(screen, MainScreen)
        entries = RunsCommands(screen)._screen_entries(screen)
        (callback,) = [cb for text, _help, cb in entries if text == "open compare"]
        screen.query_one(RunsTable).marked = {UUIDS["A"], UUIDS["D"]}
        callback()
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        assert [r.uuid for r in app.screen.runs] == [UUIDS["A"], UUIDS["D"]]


async def test_run_screen_compares_with_previous_run_of_its_experiment(store: Path) -> None:
    from runtui.tui.screens.run import RunScreen

    app = make_app(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        app.push_screen(RunScreen(store, UUIDS["C"], clock=lambda: NOW))
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        # B, not D: D started in between but belongs to another experiment
        assert [r.uuid for r in app.screen.runs] == [UUIDS["B"], UUIDS["C"]]
        await pilot.press("escape")
        app.pop_screen()
        app.push_screen(RunScreen(store, UUIDS["A"], clock=lambda: NOW))
        await pilot.pause()
        await pilot.press("d")
        assert isinstance(app.screen, RunScreen)
        assert "first run of its experiment" in last_notice(app)


async def test_floats_that_print_differently_are_marked_as_differing(tmp_path: Path) -> None:
    store = tmp_path / "floats"
    a = add_run(store, "a", params={"x": 0.3, "y": 1.0, "same": 0.5})
    b = add_run(store, "b", params={"x": 0.1 + 0.2, "y": 1.0000000000000002, "same": 0.5})
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CompareScreen(store, [a, b]))
        await pilot.pause()
        table = app.screen.query_one("#cmp-params-view", CompareTable).table
        marks = {cells(table, r)[2]: cells(table, r)[0] for r in range(table.row_count)}
        assert marks == {"x": "≠", "y": "≠", "same": ""}  # as `runtui diff` judges them
        detail = app.screen.query_one("#cmp-params-view .compare-detail", Static)
        await until(pilot, lambda: "param x" in str(detail.content))  # the first row, highlighted
        assert str(detail.content).splitlines()[1:] == ["A 0.3", "B 0.30000000000000004"]


async def test_a_tab_built_late_never_pulls_the_screen_back(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = CompareScreen(store, [UUIDS["A"], UUIDS["B"]])
        app.push_screen(screen)
        await pilot.pause()
        await pilot.press("2")  # built
        await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        screen._focus_pane("cmp-metrics")  # what the Metrics tab's slow build would ask
        await pilot.pause(0.3)
        assert screen.tabs.active == "cmp-env"
