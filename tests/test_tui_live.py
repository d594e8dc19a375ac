"""The TUI moves by itself while a training process writes: no key is pressed to refresh."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from live_writer import Writer, writers
from textual.pilot import Pilot

from runtui.tui.app import RuntuiApp
from runtui.tui.live import LiveBadge
from runtui.tui.screens.main import MainScreen

SIZE = (120, 30)


@pytest.fixture
def start_writer(subprocess_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Writer]]:
    with writers(subprocess_env, tmp_path) as start:
        yield start


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run (no key pressed) until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, (
            f"the screen did not update by itself: {pilot.app.screen}"
        )
        await pilot.pause(0.05)


def names(screen: MainScreen) -> list[str]:
    return [r.name for r in screen.source.records(0, len(screen.source))]


def status(screen: MainScreen, name: str) -> str:
    return next(r.status for r in screen.source.records(0, len(screen.source)) if r.name == name)


async def test_new_run_and_its_end_appear_keeping_cursor_and_marks(
    start_writer: Callable[..., Writer], store_dir: Path
) -> None:
    start_writer("first").finish()
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
    start_writer("first").finish()
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
        await pilot.pause(1.0)
        assert names(screen) == ["first"]
        await pilot.press("p")
        assert not badge.display
        await until(pilot, lambda: names(screen) == ["held", "first"])
