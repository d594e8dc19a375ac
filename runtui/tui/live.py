"""Live updates in the TUI: the change feed in a thread, its news as Textual messages.

`LiveUpdates` belongs to the app. A thread worker runs `runtui.live.ChangeFeed`
(file events plus a ``PRAGMA data_version`` tick; no query when nothing
changed). What the feed finds is merged into one pending `Changes` and
handed to the UI thread once per burst, then posted to every screen as:

* `RunsChanged` — runs created, changed (status, summaries, heartbeat) or
  deleted; changes alone at most every `RUNS_INTERVAL_S`, so a busy store
  does not repaint the runs table more than twice a second (new and deleted
  runs go at once);
* `PointsAdded` — new points of a run whose metrics a screen watches;
* `LogLinesAdded` — new lines of a followed log (``reset``: clear first).

A `LiveBadge` on a screen shows when updates are paused or file events do
not arrive (the feed then works from its tick alone: "polling").

Messages do not bubble: every screen on the stack gets its own copy and
handles what concerns it, applying changes by run id in place.

Pausing (``p``) holds the news back (log lines bounded by `HELD_LINES` per
run; the view starts over from the newest when more arrived) and delivers
it all on resume, so nothing moves under a reader.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, get_current_worker

from runtui.live import ChangeFeed, Changes
from runtui.services.textsafe import plain
from runtui.store.records import RunRecord

if TYPE_CHECKING:
    from textual.app import App

RUNS_INTERVAL_S = 0.5
HELD_LINES = 10_000
Point = tuple[int, float, float]


@dataclass
class RunsChanged(Message, bubble=False):
    """Runs appeared, changed or were deleted; apply each by uuid / row id."""

    new: list[RunRecord]
    changed: list[RunRecord]
    removed: list[str]


@dataclass
class PointsAdded(Message, bubble=False):
    """New points of watched metrics: metric name -> (step, time, value) in step order."""

    run_uuid: str
    points: dict[str, list[Point]]


@dataclass
class LogLinesAdded(Message, bubble=False):
    """New lines of a followed log (raw: sanitize before display). ``reset``: clear first;
    ``partial``: the line being written after them ("" when none)."""

    run_uuid: str
    lines: list[str]
    reset: bool
    partial: str = ""


class _StopWhen:
    """Stops the feed when asked, or when Textual cancels its worker (the app exits)."""

    def __init__(self, event: threading.Event, worker: Worker[None]) -> None:
        self.event = event
        self.worker = worker

    def is_set(self) -> bool:
        return self.event.is_set() or self.worker.is_cancelled

    def wait(self, timeout: float) -> bool:
        return self.event.wait(timeout) or self.worker.is_cancelled


class LiveUpdates:
    """The app's change feed and the delivery of its news; see the module docstring."""

    def __init__(self, app: App[object], store_path: Path, *, interval: float = 0.25) -> None:
        self.app = app
        self.feed = ChangeFeed(store_path, interval=interval)
        self.paused = False
        self.mode = "events"
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._incoming = Changes()
        self._handoff_pending = False
        self._held = Changes()  # taken from the feed, not yet posted (paused, or runs throttled)
        self._runs_posted_at = 0.0
        self._runs_timer = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._context: contextvars.Context | None = None
        self.badges: set[LiveBadge] = set()
        self.error = ""  # why live updates stopped, if they did

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        """Take the feed's baseline now (so runs created after this are news) and run it.

        Call from the UI thread (e.g. in ``on_mount``).
        """
        self._loop = asyncio.get_running_loop()
        self._context = contextvars.copy_context()  # Textual's active app, for the handoff
        self.feed.open()
        self.app.run_worker(
            self._run, name="live-feed", group="live-feed", thread=True, exclusive=True
        )

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        stop = _StopWhen(self._stop, get_current_worker())
        try:
            self.feed.run(self._from_feed, stop)
        except Exception as exc:  # e.g. the store became unreadable: say so, keep the app up
            self._to_ui(self._failed, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        finally:
            self.feed.close()

    def _failed(self, reason: str) -> None:
        self.mode = "stopped"
        self.error = reason
        self._show_status()

    # -- subscriptions (UI thread) ---------------------------------------------

    def follow_log(self, run_uuid: str, initial_lines: int) -> None:
        """Send `LogLinesAdded` for this run: first its last lines (``reset``), then new ones."""
        self.feed.follow_log(run_uuid, initial_lines)

    def unfollow_log(self, run_uuid: str) -> None:
        self.feed.unfollow_log(run_uuid)
        with self._lock:
            self._incoming.logs.pop(run_uuid, None)
        self._held.logs.pop(run_uuid, None)

    def watch_points(self, run_uuid: str, after: dict[str, int] | None = None) -> None:
        """Send `PointsAdded` for this run's metrics past the steps in ``after``."""
        self.feed.watch_points(run_uuid, after=after)

    def unwatch_points(self, run_uuid: str) -> None:
        self.feed.unwatch_points(run_uuid)

    # -- pause ------------------------------------------------------------------

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self._show_status()
        if not self.paused:
            self._deliver(force_runs=True)

    # -- delivery ----------------------------------------------------------------

    def _from_feed(self, changes: Changes) -> None:
        """Feed thread: merge, and wake the UI thread once per burst."""
        with self._lock:
            self._incoming.merge(changes, keep_lines=HELD_LINES)
            if self._handoff_pending:
                return
            self._handoff_pending = True
        self._to_ui(self._take)

    def _to_ui(self, callback: Callable[..., None], *args: object) -> None:
        """Run ``callback`` on the UI thread, in the app's context; never blocks the feed."""
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(callback, *args, context=self._context)
        except RuntimeError:
            self._stop.set()  # the app's loop is closed: nobody is listening

    def _take(self) -> None:
        with self._lock:
            incoming, self._incoming = self._incoming, Changes()
            self._handoff_pending = False
        self._held.merge(incoming, keep_lines=HELD_LINES)
        if incoming.mode is not None:
            self.mode = incoming.mode
            self._show_status()
        self._deliver()

    def _deliver(self, *, force_runs: bool = False) -> None:
        if self.paused:
            return
        held = self._held
        for uuid, points in held.points.items():
            self._post(PointsAdded(uuid, points))
        for uuid, update in held.logs.items():
            self._post(LogLinesAdded(uuid, update.lines, update.reset, update.partial))
        held.points, held.logs, held.mode = {}, {}, None
        if not (held.new_runs or held.changed_runs or held.removed_runs):
            return
        wait = RUNS_INTERVAL_S - (time.monotonic() - self._runs_posted_at)
        if wait > 0 and not (force_runs or held.new_runs or held.removed_runs):
            if not self._runs_timer:
                self._runs_timer = True
                self.app.set_timer(wait, self._runs_due)
            return
        self._post(RunsChanged(held.new_runs, held.changed_runs, held.removed_runs))
        held.new_runs, held.changed_runs, held.removed_runs = [], [], []
        self._runs_posted_at = time.monotonic()

    def _runs_due(self) -> None:
        self._runs_timer = False
        self._deliver(force_runs=True)

    def _show_status(self) -> None:
        for badge in self.badges:
            badge.show_status(self.paused, self.mode, self.error)

    def _post(self, message: Message) -> None:
        for screen in self.app.screen_stack:
            if type(screen) is not Screen:  # Textual's blank default screen has nothing to update
                screen.post_message(message)


class LiveBadge(Static):
    """Shows, in a screen's top-right corner, that live updates are paused, polling or stopped."""

    DEFAULT_CSS = """
    LiveBadge {
        dock: right;
        layer: _overlay;
        overlay: screen;
        width: auto;
        height: 1;
        padding: 0 1;
        background: $warning;
        color: $background;
        text-style: bold;
        display: none;
    }
    """

    def on_mount(self) -> None:
        live = getattr(self.app, "live", None)
        if isinstance(live, LiveUpdates):
            live.badges.add(self)
            self.show_status(live.paused, live.mode, live.error)

    def on_unmount(self) -> None:
        live = getattr(self.app, "live", None)
        if isinstance(live, LiveUpdates):
            live.badges.discard(self)

    def show_status(self, paused: bool, mode: str, error: str = "") -> None:
        parts = []
        if paused:
            parts.append("⏸ live paused (p)")
        if mode == "polling":
            parts.append("no file events: polling")
        elif mode == "stopped":
            parts.append(f"live updates stopped: {plain(error)[:60]}")
        self.display = bool(parts)
        self.update(Text(" · ".join(parts)))
