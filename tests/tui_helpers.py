"""Pilot helpers shared by the TUI tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.screen import Screen
from textual.scroll_view import ScrollView


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run (thread workers, live feed; no key pressed) until ``condition`` holds.

    The app's live feed never finishes, so ``workers.wait_for_complete`` is no use.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting on {pilot.app.screen}"
        await pilot.pause(0.02)


def shown_text(view: ScrollView) -> str:
    """The lines a line-API view (the file list, the diff) shows on screen now."""
    lines = (view.render_line(y).text.rstrip() for y in range(view.size.height))
    return "\n".join(lines).rstrip("\n")


class LayoutCounter:
    """Counts how often ``screen`` re-arranges its widgets from now on."""

    def __init__(self, screen: Screen) -> None:
        self.count = 0
        refresh_layout = screen._refresh_layout

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.count += 1
            return refresh_layout(*args, **kwargs)

        screen._refresh_layout = counting  # type: ignore[method-assign]
