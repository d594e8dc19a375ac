"""The run screen driven like a user would: keys, tabs, search, charts, hostile data."""

from __future__ import annotations

import gc
import math
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.text import Text
from run_screen_data import HOSTILE, TRACEBACK, RunApp, acc_curve, add_run, loss_curve
from textual.app import App
from textual.widgets import DataTable, Static, TabbedContent, TextArea, Tree
from textual.widgets._footer import FooterKey
from tui_helpers import LayoutCounter, until

import runtui
from runtui.services.downsample import Series
from runtui.tui.screens.run import RunScreen
from runtui.tui.widgets.chart import MetricChart, log_ticks, nice_ticks, tick_label
from runtui.tui.widgets.log_view import LogView, SearchableLog
from runtui.tui.widgets.metrics_view import MetricsView

RUN = "11111111-2222-4333-8444-555555555555"
FAILED = "99999999-8888-4777-8666-555555555555"
SIZE = (120, 36)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    folder = tmp_path / "store"
    add_run(
        folder,
        RUN,
        metrics={"loss": loss_curve(400), "acc": acc_curve(400)},
        log=[f"step {i}: loss={v:.3f}" for i, v in enumerate(loss_curve(400))],
    )
    add_run(folder, FAILED, name="diverged", status="failed", error=TRACEBACK, metrics={})
    return folder


def text_of(app: App[None], selector: str) -> str:
    content = app.screen.query_one(selector, Static).content
    return content.plain if isinstance(content, Text) else str(content)


async def settle(pilot, delay: float = 0.1) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause(delay)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_header_tells_what_the_run_is(store: Path) -> None:
    app = RunApp(store, RUN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        assert text_of(app, "#run-title") == "✓ completed  resnet-50  vision / 11111111"
        meta = text_of(app, "#run-meta")
        assert "started 2023-11-14 22:13 (2h ago)" in meta
        assert "took 1h 02m" in meta
        assert "ada@gpu-box" in meta
        assert "git 0123456789ab (main, dirty)" in meta
        assert text_of(app, "#run-command") == "$ python train.py --lr 0.1"
        assert not app.screen.query_one("#run-header").has_class("has-error")


async def test_failed_run_shows_first_and_last_error_lines_and_full_error_on_e(
    store: Path,
) -> None:
    app = RunApp(store, FAILED)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        summary = text_of(app, "#run-error-summary")
        assert summary.startswith("error: Traceback (most recent call last):")
        assert summary.endswith("ValueError: loss exploded: nan at step 49")
        full = app.screen.query_one("#run-error-full", Static)
        assert not full.is_on_screen  # collapsed until asked for
        await pilot.press("e")
        await pilot.pause()
        assert full.is_on_screen
        assert text_of(app, "#run-error-full") == TRACEBACK
        assert "no metrics were logged" in text_of(app, "#chart-status")


async def test_tabs_switch_with_number_keys_and_brackets_and_escape_goes_back(
    store: Path,
) -> None:
    app = RunApp(store, RUN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tabs = app.screen.query_one(TabbedContent)
        assert tabs.active == "metrics"
        await pilot.press("3")
        assert tabs.active == "params"
        await pilot.press("]")
        assert tabs.active == "code"
        await pilot.press("]", "]", "]")
        assert tabs.active == "metrics"  # wraps around
        await pilot.press("[")
        assert tabs.active == "artifacts"
        await pilot.press("5")
        await settle(pilot)
        env = app.screen.query_one("#env-view Static", Static).content
        assert "WANDB_API_KEY=***" in str(env)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RunScreen)


async def test_a_tab_left_quickly_never_pulls_focus_back(store: Path) -> None:
    """A tab that finishes building after the user moved on must not take the screen
    back (`TabbedContent` shows the tab of whatever has focus)."""
    app = RunApp(store, RUN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await pilot.press("2")
        screen._focus_pane("metrics")  # what a late build of the tab left would ask
        await pilot.pause(0.3)
        assert screen.tabs.active == "logs"


async def test_a_closed_run_screen_leaves_no_chart_behind(store: Path) -> None:
    # Opening and closing runs one after another must not pile up charts (each one kept
    # alive made every later garbage collection, and so every key press, slower).
    app = RunApp(store, RUN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        chart = weakref.ref(app.screen.query_one(MetricChart))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RunScreen)
        gc.collect()
        assert chart() is None


async def test_metrics_table_and_chart_of_the_first_metric(store: Path) -> None:
    app = RunApp(store, RUN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#metrics-table", DataTable)
        assert [str(k.value) for k in table.rows] == ["acc", "loss"]
        row = [c.plain for c in table.get_row("loss")]
        assert row[0] == "loss" and row[5] == "400" and row[6] == "399"
        assert set(row[1]) <= set("▁▂▃▄▅▆▇█")
        chart = app.screen.query_one(MetricChart)
        assert chart.metric == "acc" and chart.series is not None
        assert chart.series.total == 400 and chart.series.exact
        await pilot.press("j")  # moves as the runs table does
        await until(pilot, lambda: chart.metric == "loss")
        await pilot.press("k")
        await until(pilot, lambda: chart.metric == "acc")


async def test_enlarge_a_chart_adjust_it_and_escape_back_to_the_table(store: Path) -> None:
    app = RunApp(store, RUN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")  # "loss", enlarged
        await settle(pilot)
        view = app.screen.query_one(MetricsView)
        chart = app.screen.query_one(MetricChart)
        assert view.enlarged and chart.metric == "loss"
        assert not app.screen.query_one("#metrics-table").display
        await pilot.press("x", "l", "plus", "plus")
        status = text_of(app, "#chart-status")
        assert chart.x_axis == "time" and chart.log_y and chart.smoothing == 0.6
        assert "x: time" in status and "smoothing 0.6" in status and "log-y" in status
        await pilot.press("minus")
        assert chart.smoothing == 0.3
        await pilot.press("escape")
        assert not view.enlarged and isinstance(app.screen, RunScreen)


async def test_long_metric_shows_a_sample_first_then_the_exact_band(tmp_path: Path) -> None:
    n = 30_000  # above READ_ALL_LIMIT: sampled, then bucketed
    values = [math.sin(i / 500) for i in range(n)]
    values[12_345] = 40.0  # a spike only the exact band is sure to contain
    add_run(tmp_path / "s", RUN, metrics={"loss": values})
    app = RunApp(tmp_path / "s", RUN)
    async with app.run_test(size=SIZE) as pilot:
        chart = app.screen.query_one(MetricChart)
        shown: list[Series] = []
        original = chart.show

        def record(metric: str | None, series: Series | None) -> None:
            if series is not None:
                shown.append(series)
            original(metric, series)

        chart.show = record  # type: ignore[method-assign]
        await settle(pilot, 0.3)
        assert chart.series is not None and chart.series.exact
        assert max(chart.series.values) == 40.0
        assert len(chart.series.values) <= 2 * 120
        assert all(not s.exact for s in shown[:-1])


async def test_log_opens_at_the_end_and_search_moves_between_matches(store: Path) -> None:
    app = RunApp(store, RUN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        log = app.screen.query_one(SearchableLog)
        assert log.line_count == 400
        assert log.is_vertical_scroll_end
        await pilot.press("slash", *"step 39", "enter")
        view = app.screen.query_one(LogView)
        assert log.needle == "step 39"
        first = log.current
        # searching starts at the top of the view, which is at the end of the log
        assert first is not None and log.lines[first].startswith("step 390:")
        assert "match 2/11" in text_of(app, "#log-status")
        await pilot.press("n")
        assert log.current is not None and log.current > first
        await pilot.press("N")
        assert log.current == first
        await pilot.press("escape")  # clears the search, stays on the screen
        assert log.needle == "" and isinstance(app.screen, RunScreen)
        assert isinstance(app.focused, SearchableLog) and view.log is app.focused


async def test_long_log_is_read_from_its_end_only(tmp_path: Path) -> None:
    lines = [f"line {i}" for i in range(20_000)]
    add_run(tmp_path / "s", RUN, log=lines)
    app = RunApp(tmp_path / "s", RUN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        log = app.screen.query_one(SearchableLog)
        assert log.lines[-1] == "line 19999"
        assert log.line_count == 5_000
        assert "last 5,000 lines of" in text_of(app, "#log-status")
        app.screen.append_lines(["new line \x1b[2J\r\n"])
        await pilot.pause()
        assert log.lines[-1] == "new line "


def log_rows(log: SearchableLog) -> list[str]:
    """The log's rows as they are on screen."""
    return [log.render_line(y).text.rstrip() for y in range(log.scrollable_content_region.height)]


def footer_keys(app: App[None]) -> dict[str, str]:
    return {k.key_display: k.description for k in app.screen.query(FooterKey)}


async def test_logs_tab_reads_when_first_shown_and_new_lines_do_not_relayout(store: Path) -> None:
    app = RunApp(store, RUN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        view = app.screen.query_one(LogView)  # built with the screen: nothing to mount later
        assert not view.loaded and view.log.line_count == 0  # but nothing read yet
        await pilot.press("2")
        await settle(pilot)
        assert log_rows(view.log)[-1].startswith("step 399: loss=")
        layouts = LayoutCounter(app.screen)
        app.screen.append_lines([f"more {i}" for i in range(100)])
        await pilot.pause()
        assert log_rows(view.log)[-1] == "more 99" and view.log.is_vertical_scroll_end
        assert layouts.count == 0  # the log's scrollbar moved; the screen was not re-arranged


async def test_w_wraps_long_lines_and_search_and_following_keep_working(tmp_path: Path) -> None:
    width = SIZE[0]
    lines = [f"short {i}" for i in range(100)]
    lines[60] = "long " + "x" * (width * 2) + " needle at the far end"
    lines.append("last " + "y" * width + " tail")
    add_run(tmp_path / "s", RUN, log=lines)
    app = RunApp(tmp_path / "s", RUN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        log = app.screen.query_one(SearchableLog)
        assert footer_keys(app)["w"] == "wrap"
        assert "no wrap (w)" in text_of(app, "#log-status")
        assert log_rows(log)[-1].startswith("last yyy") and "tail" not in log_rows(log)[-1]

        await pilot.press("w")
        rows = log_rows(log)
        assert "wrapped" in text_of(app, "#log-status")
        assert "no wrap" not in text_of(app, "#log-status")
        assert rows[-1].endswith("tail")  # the end of the last line, below its start
        assert log.is_vertical_scroll_end and log.max_scroll_x == 0

        await pilot.press("slash", *"needle", "enter")
        assert log.current == 60
        assert any(row.endswith("needle at the far end") for row in log_rows(log))
        assert "match 1/1" in text_of(app, "#log-status")
        await pilot.press("escape", "G")

        app.screen.append_lines(["fresh " + "z" * width + " newest"])
        await pilot.pause()
        assert log_rows(log)[-1].endswith("newest")  # followed in wrapped mode too
        await pilot.press("pageup")
        app.screen.query_one(LogView).show_live(["one", "two"], reset=False)
        await pilot.pause()
        assert "2 new lines below" in text_of(app, "#log-status")
        await pilot.press("G")
        assert log_rows(log)[-1] == "two"

        await pilot.press("w")  # back to one row per line, still at the end
        assert log_rows(log)[-1] == "two" and log.is_vertical_scroll_end
        assert "fresh zzz" in log_rows(log)[-3]


async def test_hostile_names_params_and_log_lines_render_literally(tmp_path: Path) -> None:
    log = [
        "\x1b[31mred\x1b[0m \x1b]2;PWNED\x07title \x1b[1;1Hmove \x1b[2Jclear \x9b2J \x1blone",
        "progress  10%\rprogress  50%\rprogress 100%",
        HOSTILE,
    ]
    add_run(
        tmp_path / "s",
        RUN,
        name=HOSTILE,
        experiment="[/]",
        params={HOSTILE: HOSTILE, "nested": {"[/]": [1, 2]}},
        tags={"[red]": "[/]"},
        metrics={HOSTILE: [1.0, math.nan, math.inf, 2.0]},
        log=log,
        env={"[/]": "\x1b]0;title\x07"},
    )
    app = RunApp(tmp_path / "s", RUN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert HOSTILE in text_of(app, "#run-title")
        assert text_of(app, "#run-title").count("[/]") == 3
        table = app.screen.query_one("#metrics-table", DataTable)
        assert table.get_row(HOSTILE)[0].plain == HOSTILE
        await pilot.press("enter")  # chart of a metric with NaN and inf
        await settle(pilot)
        assert app.screen.query_one(MetricChart).series is not None
        await pilot.press("escape", "2")
        await settle(pilot)
        lines = app.screen.query_one(SearchableLog).lines
        assert lines[0] == "red title move clear  \ufffdlone"
        assert lines[1] == "progress 100%"
        assert lines[2] == HOSTILE
        assert not any("\x1b" in line or "\x9b" in line for line in lines)
        await pilot.press("3")
        await settle(pilot)
        params = app.screen.query_one("#params-view", DataTable)
        cells = [[c.plain for c in params.get_row_at(i)] for i in range(params.row_count)]
        assert ["param", HOSTILE, HOSTILE] in cells
        assert ["param", "nested", '{"[/]": [1, 2]}'] in cells
        assert ["tag", "[red]", "[/]"] in cells
        await pilot.press("5")
        await settle(pilot)
        env = app.screen.query_one("#env-view Static", Static).content
        assert str(env).endswith("\n[/]=")  # the whole title-setting sequence is gone
        await pilot.press("4", "6")
        await settle(pilot)


async def test_code_tab_shows_the_snapshot_tree_and_a_file(tmp_path: Path) -> None:
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "train.py").write_text("print('hello')\n")
    (code / "pkg" / "model.py").write_text("class Model:\n    pass\n")
    (code / "weights.bin").write_bytes(b"\x00\x01\x02" * 10)
    with runtui.start_run(
        "e", name="snap", snapshot=code, capture_output=False, store=tmp_path / "s"
    ) as run:
        run.log("loss", 1.0)
    app = RunApp(tmp_path / "s", run.uuid)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(pilot)
        tree = app.screen.query_one(Tree)
        files = [n for n in tree.root.children if n.data != "git diff"]  # dirty checkout
        top = [str(node.label).split("  ")[0] for node in files]
        assert top == ["pkg/", "train.py", "weights.bin"]
        area = app.screen.query_one(TextArea)
        assert area.text == "print('hello')\n" and area.read_only  # opened by itself
        assert app.focused is tree and footer_keys(app)["⏎"] == "Open"
        await pilot.press("G", "enter")  # vim keys like the other lists; enter shows the file
        await settle(pilot)
        assert tree.cursor_node is files[2]
        assert "binary file" in text_of(app, "#code-path")
        await pilot.press("k", "enter")
        await settle(pilot)
        assert "train.py" in text_of(app, "#code-path") and area.text == "print('hello')\n"
        await pilot.press("g", "j")
        assert tree.cursor_line == 1


async def test_missing_run_says_so_and_escape_still_goes_back(store: Path) -> None:
    app = RunApp(store, "no-such-run")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "cannot open run no-such-run" in text_of(app, "#run-missing")
        await pilot.press("1", "]", "escape")
        assert not isinstance(app.screen, RunScreen)


def test_axis_ticks_are_round_numbers_with_short_labels() -> None:
    assert [tick_label(t) for t in nice_ticks(0, 999_999)] == ["0", "200k", "400k", "600k", "800k"]
    assert nice_ticks(3, 2995) == [500, 1000, 1500, 2000, 2500]
    assert nice_ticks(2.0, 2.0) == [2.0]
    # log scale: whole decades when the data spans them, else even steps
    assert log_ticks(-3.2, 1.5) == [-3.0, -2.0, -1.0, 0.0, 1.0]
    assert log_ticks(0.0, 1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]
