"""The TUI moves by itself while a training process writes: no key is pressed to refresh."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from live_writer import Writer, finished_run, writers
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from tui_helpers import until

from runtui.live import ChangeFeed
from runtui.store import location
from runtui.tui.app import RuntuiApp
from runtui.tui.live import LiveBadge
from runtui.tui.screens.main import MainScreen
from runtui.tui.screens.run import RunScreen
from runtui.tui.widgets.log_view import LogView
from runtui.tui.widgets.metrics_view import MetricsView

SIZE = (120, 30)


@pytest.fixture
def start_writer(subprocess_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Writer]]:
    with writers(subprocess_env, tmp_path) as start:
        yield start


def names(screen: MainScreen) -> list[str]:
    return [r.name for r in screen.source.records(0, len(screen.source))]


def status(screen: MainScreen, name: str) -> str:
    return next(r.status for r in screen.source.records(0, len(screen.source)) if r.name == name)


async def test_new_run_and_its_end_appear_keeping_cursor_and_marks(
    start_writer: Callable[..., Writer], store_dir: Path
) -> None:
    finished_run(store_dir, "first")
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("space")  # mark "first"; the cursor stays on it (last row)
        second = await asyncio.to_thread(start_writer, "second")
        await until(pilot, lambda: names(screen) == ["second", "first"])
        assert status(screen, "second") == "running"
        current = screen.table.current_record()
        assert current is not None and current.name == "first"
        assert screen.table.marked == {current.uuid}

        await asyncio.to_thread(second.finish)
        await until(pilot, lambda: status(screen, "second") == "completed")


async def test_killed_run_turns_crashed_on_screen(
    start_writer: Callable[..., Writer], store_dir: Path
) -> None:
    victim = start_writer("victim")
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.live is not None
        app.live.feed.reap_interval = 0.2
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert status(screen, "victim") == "running"
        victim.kill()
        await until(pilot, lambda: status(screen, "victim") == "crashed")


async def test_pause_holds_updates_back_and_says_so(
    start_writer: Callable[..., Writer], store_dir: Path
) -> None:
    finished_run(store_dir, "first")
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        badge = screen.query_one(LiveBadge)
        assert not badge.display
        await pilot.press("p")
        assert badge.display and "paused" in str(badge.content)
        await asyncio.to_thread(start_writer, "held")
        await pilot.pause(0.6)  # several times the usual delay: it would have shown by now
        assert names(screen) == ["first"]
        await pilot.press("p")
        assert not badge.display
        await until(pilot, lambda: names(screen) == ["held", "first"])


async def open_run(pilot: Pilot, name: str) -> RunScreen:
    """Open a run from the main screen, as a user would (cursor on it, enter)."""
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    position = names(screen).index(name)
    screen.table.cursor = position
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, RunScreen))
    run_screen = pilot.app.screen
    assert isinstance(run_screen, RunScreen)
    return run_screen


async def open_logs(pilot: Pilot, name: str) -> RunScreen:
    """The run screen of run ``name``, on its Logs tab."""
    await pilot.pause()
    screen = await open_run(pilot, name)
    await pilot.press("2")
    return screen


def log_lines(screen: RunScreen) -> list[str]:
    return list(screen.query_one(LogView).log.lines)


def log_status(screen: RunScreen) -> str:
    return str(screen.query_one("#log-status", Static).content)


async def test_logs_tab_follows_new_lines_and_counts_them_when_scrolled_up(
    start_writer: Callable[..., Writer], store_dir: Path
) -> None:
    writer = start_writer("talker")
    writer.send(*(f"print early {i}" for i in range(60)))
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(pilot, "talker")
        await until(pilot, lambda: log_lines(screen)[-1:] == ["early 59"])

        writer.send("print \x1b]0;title\x07hello from training")
        await until(pilot, lambda: log_lines(screen)[-1:] == ["hello from training"])
        log = screen.query_one(LogView).log
        assert log.is_vertical_scroll_end  # followed

        await pilot.press("pageup")
        writer.send("print below 1", "print below 2")
        await until(pilot, lambda: "2 new lines below" in log_status(screen))
        assert not log.is_vertical_scroll_end
        await pilot.press("G")
        assert log.is_vertical_scroll_end
        assert "new lines" not in log_status(screen)

        log_file = location.log_path(store_dir, writer.uuid)
        replacement = log_file.with_suffix(".new")
        replacement.write_text("rotated 1\nrotated 2\n")
        os.replace(replacement, log_file)
        await until(pilot, lambda: log_lines(screen) == ["rotated 1", "rotated 2"])


def line_in_progress(screen: RunScreen) -> str | None:
    """The progress line shown as the log's last row, or None when there is none."""
    log = screen.query_one(LogView).log
    if not log.partial:
        return None
    last_row = log.virtual_size.height - 1
    return log.render_line(last_row - int(log.scroll_y)).text.rstrip()


async def test_a_progress_bar_being_redrawn_shows_under_the_log(
    start_writer: Callable[..., Writer], store_dir: Path
) -> None:
    writer = start_writer("bar")
    wide = "print line 79" + " wider than the bar" * 3  # so a redraw changes no width
    writer.send(*(f"print line {i}" for i in range(79)), wide, "redraw  10%|#         | 1/10")
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(pilot, "bar")
        await until(pilot, lambda: line_in_progress(screen) == " 10%|#         | 1/10")
        log = screen.query_one(LogView).log
        assert log_lines(screen)[-1:] == [wide.removeprefix("print ")]
        await until(pilot, lambda: log.is_vertical_scroll_end)  # still following

        writer.send("redraw  60%|######    | 6/10 \x1b[31mred")
        await until(pilot, lambda: (line_in_progress(screen) or "").startswith(" 60%"))
        assert "\x1b" not in (line_in_progress(screen) or "")
        await until(pilot, lambda: "6/10" in app.export_screenshot(), timeout=15)  # on screen

        writer.send("redraw 100%|##########| 10/10", "print ")  # the bar ends its line
        await until(pilot, lambda: log_lines(screen)[-1:] == ["100%|##########| 10/10"])
        assert line_in_progress(screen) is None
        await until(pilot, lambda: log.is_vertical_scroll_end)
        assert "new line" not in log_status(screen)


async def test_a_short_logs_progress_bar_is_the_row_under_its_last_line(
    start_writer: Callable[..., Writer], store_dir: Path
) -> None:
    writer = start_writer("short")
    writer.send("print loaded", "redraw  30%|###       | 3/10")
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(pilot, "short")
        await until(pilot, lambda: line_in_progress(screen) == " 30%|###       | 3/10")
        log = screen.query_one(LogView).log
        rows = [log.render_line(y).text.rstrip() for y in range(3)]
        assert rows == ["loaded", " 30%|###       | 3/10", ""]

        await pilot.press("w")  # wrapped, the bar keeps its place
        await pilot.pause()
        assert [log.render_line(y).text.rstrip() for y in range(2)] == rows[:2]


async def test_an_ended_runs_unfinished_last_line_is_its_last_line(
    start_writer: Callable[..., Writer], store_dir: Path
) -> None:
    writer = start_writer("ended")
    writer.send("print one", "write half a line", "finish")
    writer.proc.wait(10)
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(pilot, "ended")
        await until(pilot, lambda: log_lines(screen)[-2:] == ["one", "half a line"])
        await pilot.pause(0.3)  # a live feed, if any, would have delivered by now
        assert log_lines(screen)[-2:] == ["one", "half a line"]
        assert line_in_progress(screen) is None


async def test_metrics_and_header_follow_the_run(
    start_writer: Callable[..., Writer], store_dir: Path
) -> None:
    writer = start_writer("learner")
    writer.send("log loss 1.0")
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_run(pilot, "learner")
        metrics = screen.query_one(MetricsView)
        await until(pilot, lambda: "loss" in metrics.summaries)
        writer.send("log loss 0.5", "log loss 1.104e-05")
        await until(pilot, lambda: metrics.summaries["loss"].count == 3)
        assert metrics.summaries["loss"].last == 1.104e-05
        table = screen.query_one("#metrics-table", DataTable)
        wide = len("1.104e-05")  # wider than the values before: shown whole, not cut
        await until(pilot, lambda: table.columns["last"].content_width >= wide)  # type: ignore[index]
        assert table.columns["min"].content_width >= wide  # type: ignore[index]
        await asyncio.to_thread(writer.finish)
        await until(
            pilot, lambda: screen.record is not None and screen.record.status == "completed"
        )


async def test_without_file_events_it_polls_and_says_so(
    start_writer: Callable[..., Writer], store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFILES_FORCE_POLLING", "1")  # as on WSL or a network filesystem
    finished_run(store_dir, "first")
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        badge = screen.query_one(LiveBadge)
        await until(pilot, lambda: badge.display and "polling" in str(badge.content))
        await asyncio.to_thread(start_writer, "polled")
        await until(pilot, lambda: names(screen) == ["polled", "first"])


async def test_a_failing_feed_stops_live_updates_not_the_app(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished_run(store_dir, "first")

    def broken(self: ChangeFeed, wake: object = None) -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(ChangeFeed, "check", broken)
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        badge = app.screen.query_one(LiveBadge)
        await until(
            pilot, lambda: "live updates stopped: database disk image" in str(badge.content)
        )
        await pilot.press("down")  # still usable
        assert isinstance(app.screen, MainScreen)


async def test_compare_follows_a_live_run(
    start_writer: Callable[..., Writer], store_dir: Path
) -> None:
    from runtui.tui.screens.compare import CompareScreen
    from runtui.tui.widgets.compare_metrics import CompareMetrics

    writer = start_writer("learner")
    writer.send("log loss 1.0")
    base = finished_run(store_dir, "base")
    app = RuntuiApp(store_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = CompareScreen(store_dir, [base, writer.uuid])
        app.push_screen(screen)
        await pilot.pause()
        await pilot.press("2")
        metrics = screen.query_one(CompareMetrics)
        table = metrics.table

        def last_of_b() -> str:
            return table.get_cell("last:loss", "run1").plain

        await until(pilot, lambda: last_of_b() == "1")
        table.move_cursor(row=2)
        writer.send("log loss 0.25")
        await until(pilot, lambda: last_of_b() == "0.25")  # in place: the cursor stays
        assert table.cursor_row == 2
        runs = screen.query_one("#cmp-runs", Static)
        assert "running" in str(runs.content)
        await asyncio.to_thread(writer.finish)
        await until(pilot, lambda: "running" not in str(runs.content))
        assert "completed" in str(runs.content).splitlines()[1]
