"""The main screen driven like a user would: keys and clicks on the real app, headless."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from textual import events
from textual.widgets import Input
from tui_helpers import LayoutCounter, until
from tui_main_data import NOW, SPECS, build_store

from runtui.services.units import format_duration
from runtui.store import location
from runtui.tui import render, settings
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.empty import EmptyScreen
from runtui.tui.screens.help import HelpScreen
from runtui.tui.screens.main import MainScreen
from runtui.tui.widgets.column_chooser import ColumnChooser
from runtui.tui.widgets.experiments import ExperimentList
from runtui.tui.widgets.runs_table import RunsTable

SIZE = (140, 30)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return build_store(tmp_path / "store")


def make_app(store: Path) -> RuntuiApp:
    return RuntuiApp(store, clock=lambda: NOW)


def table_of(app: RuntuiApp) -> RunsTable:
    return app.screen.query_one(RunsTable)


def visible_names(app: RuntuiApp) -> list[str]:
    table = table_of(app)
    top = int(table.scroll_y)
    return [r.name for r in table.source.records(top, top + table.size.height - 1)]


def row_text(app: RuntuiApp, index: int) -> str:
    table = table_of(app)
    return table.render_line(index - int(table.scroll_y) + 1).text


def status_line(app: RuntuiApp) -> str:
    return str(app.screen.query_one("#view-status").render())


async def test_opens_on_runs_newest_first_with_experiment_counts(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        newest_first = [s.name for s in sorted(SPECS, key=lambda s: s.started_ago)]
        assert visible_names(app) == newest_first
        header = table_of(app).render_line(0).text
        for label in ("status", "name", "started ▼", "duration", "loss"):
            assert label in header
        keys = [c.key for c in table_of(app).columns]
        assert keys[5:] == [
            "metric:loss",  # logged by every run
            "metric:acc",
            "param:batch_size",  # varies: missing in the nlp runs
            "param:lr",
            "param:warmup",
            "experiment",  # several experiments shown
        ]
        experiments = app.screen.query_one(ExperimentList)
        prompts = [str(o.prompt) for o in experiments.options]
        assert prompts[0].split() == ["7", "all"]
        assert [p.split() for p in prompts[1:]] == [["4", "cifar"], ["3", "nlp"]]
        live = row_text(app, 0)
        assert "▶ running" in live and "30m ago" in live and "30m 00s" in live


async def test_running_duration_follows_the_clock(store: Path) -> None:
    now = [NOW]
    app = RuntuiApp(store, clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "30m 00s" in row_text(app, 0)
        now[0] += 75
        await pilot.pause(1.3)  # one tick of the duration timer
        assert "31m 15s" in row_text(app, 0)


async def test_typing_a_filter_never_moves_the_table_and_the_bar_says_what_keys_do(
    store: Path,
) -> None:
    """The bar keeps one size whether a hint or an error shows: typing re-lays out nothing."""
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await pilot.pause()
        table = table_of(app)
        region = table.region
        line = app.screen.query_one("#filter-error")
        assert "enter: keep this filter" in str(line.render())
        layouts = LayoutCounter(app.screen)
        await pilot.press(*"lr>")  # the error appears
        await pilot.pause()
        assert "^" in str(line.render()) and table.region == region
        await pilot.press(*"=0.01 resnet")  # and goes; the text grows
        await pilot.pause()
        assert "enter: keep" in str(line.render()) and table.region == region
        assert sorted(visible_names(app)) == ["resnet-diverged", "resnet-lr-0.01", "resnet-lr-0.1"]
        # the footer gains "Clear filter", the scrollbar goes with fewer runs; typing: none
        assert layouts.count <= 2


async def test_filter_live_error_keeps_last_good_result_and_escape_restores(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"lr>=0.01")
        await pilot.pause()
        assert sorted(visible_names(app)) == ["resnet-diverged", "resnet-lr-0.01", "resnet-lr-0.1"]
        assert "filter lr>=0.01" in status_line(app)
        await pilot.press(*" >")
        await pilot.pause()
        error = str(app.screen.query_one("#filter-error").render())
        assert "^" in error and "position 10" in error
        assert len(table_of(app).source) == 3  # still the last good result
        await pilot.press("backspace", *"status=failed", "enter")
        await pilot.pause()
        assert app.focused is table_of(app)
        assert sorted(visible_names(app)) == ["resnet-diverged"]
        assert not app.screen.query_one("#filter-bar").display
        # editing again then escape puts back the applied filter
        await pilot.press("slash", "backspace", "backspace")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert visible_names(app) == ["resnet-diverged"]
        # escape on the table clears the filter
        await pilot.press("escape")
        await pilot.pause()
        assert len(visible_names(app)) == len(SPECS)
        assert "filter" not in status_line(app)


async def test_sort_keeps_cursor_on_the_same_run(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = table_of(app)
        await pilot.press("j", "j")
        before = table.current_record()
        assert before is not None
        await pilot.press("l")  # name column
        await pilot.press("s")
        await pilot.pause()
        assert visible_names(app) == sorted(s.name for s in SPECS)
        assert "name ▲" in table.render_line(0).text
        assert table.current_record().uuid == before.uuid
        await pilot.press("s")  # again: reversed
        await pilot.pause()
        assert visible_names(app) == sorted((s.name for s in SPECS), reverse=True)
        assert table.current_record().uuid == before.uuid
        await pilot.press("S")  # S: the opposite of the natural (ascending) order
        await pilot.pause()
        assert visible_names(app)[0] == "resnet-lr-0.1"


async def test_sort_by_metric_puts_missing_last_and_header_click_sorts(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = table_of(app)
        acc = next(i for i, c in enumerate(table.columns) if c.key == "metric:acc")
        table.sort_by_column(acc, reverse=True)  # ascending last value
        await pilot.pause()
        names = visible_names(app)
        assert names[0] == "resnet-diverged"  # acc 0.1
        assert set(names[-3:]) == {"bert-base", "bert-large", "bert-canceled"}  # no acc
        status_x = table._offsets[0] + 1 - int(table.scroll_x)
        await pilot.click(RunsTable, offset=(status_x + 1, 1))  # header row (after the border)
        await pilot.pause()
        assert "status ▲" in table.render_line(0).text
        assert [r.status for r in table.source.records(0, 2)] == ["canceled", "completed"]


async def test_mark_moves_down_and_shows_count(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = table_of(app)
        await pilot.press("space", "space")
        assert table.cursor == 2
        assert len(table.marked) == 2
        assert row_text(app, 0).startswith("●")
        assert "2 marked" in status_line(app)
        await pilot.press("k", "space")
        assert len(table.marked) == 1


async def test_g_and_G_go_to_top_and_bottom(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = table_of(app)
        await pilot.press("G")
        assert table.cursor == len(SPECS) - 1
        await pilot.press("g")
        assert table.cursor == 0
        await pilot.press("end", "up")
        assert table.cursor == len(SPECS) - 2


async def test_experiment_list_switches_the_table(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("e", "j", "j")
        await pilot.pause()
        assert sorted(visible_names(app)) == ["bert-base", "bert-canceled", "bert-large"]
        keys = [c.key for c in table_of(app).columns]
        assert "param:warmup" in keys and "param:batch_size" not in keys  # what varies here
        assert "experiment" not in keys
        assert status_line(app).startswith("nlp")


async def test_column_chooser_is_remembered_per_store(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ColumnChooser)
        params_list = app.screen.query_one("#chooser-params")
        assert params_list.render_line(0).text.startswith("▐✓▌")  # ticked: no colour needed
        await pilot.press("space")  # params list, first entry: batch_size -> off
        await pilot.pause()
        assert params_list.render_line(0).text.startswith("▐ ▌")
        await pilot.press("tab")
        await pilot.press("j", "space")  # metrics: f1 (sorted: acc, f1, loss) -> on
        await pilot.press("enter")
        await pilot.pause()
        keys = [c.key for c in table_of(app).columns]
        assert "param:batch_size" not in keys and "param:lr" in keys
        assert {"metric:acc", "metric:loss", "metric:f1"} <= set(keys)
    saved = json.loads((store / settings.FILENAME).read_text())
    assert saved["params"] == ["lr", "warmup"] and "f1" in saved["metrics"]
    again = make_app(store)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert [c.key for c in table_of(again).columns] == keys


async def test_help_lists_the_live_bindings(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        body = str(app.screen.query_one("#help-body").render())
        for expected in ("Runs table", "Mark", "Sort reverse", "Filter", "Quit", "lr>=1e-4"):
            assert expected in body
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def palette_shows(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Wait (at most 2 s) until the palette's search, run in a worker, lists ``text``."""
    from textual.command import CommandList

    for _ in range(100):
        for hits in pilot.app.screen.query(CommandList):
            prompts = [str(hits.get_option_at_index(i).prompt) for i in range(hits.option_count)]
            if any(text in prompt for prompt in prompts):
                return
        await pilot.pause(0.02)
    raise AssertionError(f"the palette never listed {text!r}")


async def test_palette_switches_experiment(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.press(*"experiment: nlp")
        await palette_shows(pilot, "nlp")
        await pilot.press("enter")
        await pilot.pause()
        assert sorted(visible_names(app)) == ["bert-base", "bert-canceled", "bert-large"]


@pytest.mark.skipif(
    importlib.util.find_spec("runtui.tui.screens.run") is None, reason="run screen not built"
)
async def test_enter_opens_the_run_and_escape_comes_back(store: Path) -> None:
    from runtui.tui.screens.run import RunScreen

    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("j", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert table_of(app).cursor == 1


async def test_q_quits(store: Path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_empty_store_explains_and_switches_when_a_run_appears(tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    app = make_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, EmptyScreen)
        text = str(app.screen.query_one("#empty-body").render())
        assert "runtui demo" in text and "runtui run -- python train.py" in text
        assert "import runtui" in text
        build_store(folder)
        await pilot.pause(1.3)
        assert isinstance(app.screen, MainScreen)


def test_spark_text_handles_nan_inf_and_empty() -> None:
    assert render.spark_text([], 5).plain == "–––––"
    assert render.spark_text([float("nan"), float("inf")], 4).plain == "––––"
    assert render.spark_text([0.0, 1.0, float("nan"), 2.0], 8).plain == "▁▅ █"
    assert render.spark_text([3.0] * 40, 6).plain == "▄▄▄▄▄▄"
    assert len(render.spark_text(range(1000), 12).plain) == 12


def test_time_and_number_formats() -> None:
    assert render.relative_time(NOW - 3 * 3600 - 5, NOW) == "3h ago"
    assert render.relative_time(NOW - 3, NOW) == "just now"
    assert render.relative_time(NOW - 3 * 86400, NOW) == "3d ago"
    assert format_duration(3723) == "1h 02m"
    assert format_duration(59) == "59s"
    assert render.format_number(0.000123456) == "0.0001235"
    assert render.format_number(float("-inf")) == "-inf"


# -- runtui ui: bad stores fail before the screen is taken --------------------------


def _ui(args: list[str]) -> tuple[int, str]:
    from runtui.cli.main import main

    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def test_ui_refuses_a_corrupt_store(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    location.db_path(folder).write_bytes(b"this is not sqlite at all" * 100)
    code, output = _ui(["ui", "--store", str(folder)])
    assert code == 2
    assert output.count("\n") == 1 and "runtui: error:" in output


def test_ui_refuses_a_store_from_a_newer_version(store: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(location.db_path(store))
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    code, output = _ui(["--store", str(store), "ui"])
    assert code == 2 and "newer" in output


def test_ui_refuses_a_file_and_a_folder_that_is_not_a_store(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("hello")
    code, output = _ui(["ui", "--store", str(a_file)])
    assert code == 2 and "not a runtui store" in output
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "train.py").write_text("print(1)")
    code, output = _ui(["ui", "--store", str(folder)])
    assert code == 2 and "not a runtui store" in output


@pytest.mark.parametrize("args", [["ui"], [], ["demo"]])
@pytest.mark.parametrize("terminal", ["stdin", "stderr"])  # the other one is not
def test_without_a_terminal_the_ui_is_one_line(
    args: list[str], terminal: str, tmp_path: Path
) -> None:
    import os
    import pty

    store = tmp_path / "store"
    leader, follower = pty.openpty()
    streams = (
        {"stdin": follower, "stderr": subprocess.PIPE}
        if terminal == "stdin"
        else {"stdin": subprocess.DEVNULL, "stderr": follower}
    )
    with subprocess.Popen(
        [sys.executable, "-m", "runtui", "--store", str(store), *args],
        stdout=subprocess.PIPE, **streams,  # type: ignore[call-overload]
    ) as proc:  # fmt: skip
        os.close(follower)
        try:
            code = proc.wait(20)
        except subprocess.TimeoutExpired:  # it took the screen and waits for keys
            proc.kill()
            raise
        assert proc.stdout is not None and proc.stdout.read() == b""
        said = proc.stderr.read() if proc.stderr else os.read(leader, 4096).replace(b"\r", b"")
    os.close(leader)
    assert code == 2
    assert said.startswith(b"runtui: error: the terminal UI needs a terminal")
    assert said.count(b"\n") == 1
    assert not store.exists()  # and no demo store was built for nobody


async def test_keys_typed_right_after_slash_go_to_the_filter(store: Path) -> None:
    """A terminal delivers "/status=failed⏎" in one read: none of it may sort or open a run."""
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key, char in [("slash", "/"), *((c, c) for c in "status=failed"), ("enter", "\r")]:
            app.post_message(events.Key(key, char))  # all queued before "/" runs
        await until(pilot, lambda: "filter status=failed" in status_line(app), timeout=3.0)
        assert isinstance(app.screen, MainScreen)
        assert sorted(visible_names(app)) == ["resnet-diverged"]
        assert "filter status=failed" in status_line(app)
        assert app.focused is table_of(app)


async def test_ansi_and_light_themes_draw_the_table_and_are_remembered(store: Path) -> None:
    """ANSI themes name colours Rich cannot parse ("ansi_green"): they must still draw."""
    from textual.theme import BUILTIN_THEMES

    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for name in [n for n in BUILTIN_THEMES if n.startswith("ansi")] + ["textual-light"]:
            app.theme = name
            await pilot.pause()
            assert visible_names(app)[0] in row_text(app, 0)
        app.theme = "ansi-light"
        await pilot.pause()
    assert settings.load(store).theme == "ansi-light"
    app = make_app(store)  # and the app opens again with it
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "ansi-light" and visible_names(app)


async def test_narrow_terminal_gives_the_table_the_width_and_e_shows_experiments(
    store: Path,
) -> None:
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        sidebar = app.screen.query_one("#sidebar")
        assert not sidebar.display and table_of(app).region.width == 80
        await pilot.press("e")
        await pilot.pause()
        assert sidebar.display and isinstance(app.focused, ExperimentList)
        await pilot.press("j", "enter")  # pick an experiment: back to a full-width table
        await pilot.pause()
        assert not sidebar.display and app.focused is table_of(app)
        assert not status_line(app).startswith("all experiments")


def test_a_param_and_a_metric_of_one_name_are_told_apart_in_the_header() -> None:
    from runtui.tui.columns import build_columns

    labels = [c.label for c in build_columns(["lr", "opt"], ["lr", "loss"], [])]
    assert labels[-4:] == ["metrics.lr", "loss", "params.lr", "opt"]
