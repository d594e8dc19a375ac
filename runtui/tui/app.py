"""The runtui terminal app: picks the first screen and holds what every screen shares.

`run_tui` is the one entry point (``runtui``, ``runtui ui``, ``runtui demo``).
The app opens the store itself so a store that is not there yet shows the
empty screen, which turns into the main screen when a first run is logged.
The clock is injectable so that snapshot tests render fixed times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.theme import BUILTIN_THEMES
from textual.widget import Widget

from runtui.errors import StoreError
from runtui.store import location
from runtui.store.reader import Store, open_store
from runtui.tui import settings
from runtui.tui.commands import RunsCommands
from runtui.tui.live import LiveUpdates
from runtui.tui.screens.empty import EmptyScreen
from runtui.tui.screens.help import HelpScreen
from runtui.tui.screens.main import MainScreen


class RuntuiApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "runtui"
    COMMANDS = App.COMMANDS | {RunsCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("p", "toggle_live", "Pause live", id="app.pause_live"),
    ]

    def __init__(self, store_path: Path, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.store_path = store_path
        self.clock = clock
        self.store: Store | None = None
        self.live: LiveUpdates | None = None
        self._key_targets: dict[int, Widget | None] = {}  # key event -> focused when it came
        theme = settings.load(store_path).theme
        if theme in BUILTIN_THEMES:
            self.theme = theme

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if len(self._key_targets) > 256:  # keys stopped before coming back here
                self._key_targets.clear()
            self._key_targets[id(event)] = self.focused
        await super().on_event(event)

    def on_key(self, event: events.Key) -> None:
        """A key meant for a widget that lost focus meanwhile goes to the focused one.

        A terminal delivers "/status" in one read, and every key of it is
        queued for the widget focused then (the runs table) before "/" has
        run. "/" then focuses the filter input; the other keys would reach
        the app's bindings with the input focused and be lost.
        """
        target = self._key_targets.pop(id(event), None)
        focused = self.focused
        if target is None or focused is None or target is focused or not event.is_printable:
            return  # other keys go on to the bindings, which follow the focus already
        event.prevent_default()
        focused.post_message(events.Key(event.key, event.character))

    def on_mount(self) -> None:
        if location.db_path(self.store_path).exists():
            self._open_main()
        else:
            self.push_screen(EmptyScreen(self.store_path))

    def _open_main(self) -> None:
        try:
            self.store = open_store(self.store_path)
        except StoreError as exc:
            self.exit(return_code=2, message=f"runtui: error: {exc}")
            return
        self.live = LiveUpdates(self, self.store_path)
        self.live.start()  # before the table loads: runs logged meanwhile arrive as news
        self.push_screen(MainScreen(self.store, clock=self.clock))

    def on_empty_screen_store_appeared(self) -> None:
        self.pop_screen()
        self._open_main()

    def watch_theme(self, theme: str) -> None:
        """Remember a theme picked from the palette for this store."""
        if self.store is None:
            return
        ui = settings.load(self.store_path)
        if ui.theme != theme:
            ui.theme = theme
            settings.save(self.store_path, ui)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen.active_bindings))

    def action_toggle_live(self) -> None:
        """Pause live updates (to read a moving table), or resume them."""
        if self.live is not None:
            self.live.toggle_pause()

    def on_unmount(self) -> None:
        if self.live is not None:
            self.live.stop()
        if self.store is not None:
            self.store.close()


def run_tui(store_path: Path | None = None) -> None:
    """Open the TUI on a store folder (default: the usual store resolution)."""
    app = RuntuiApp(location.resolve_store_path(store_path))
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)
