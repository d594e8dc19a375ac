"""The screen for a store with no runs yet: how to log the first one, and the demo.

It checks once a second whether a run has appeared (a stat call), so a user
who starts a training script in another terminal sees it without restarting.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Center, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from runtui.store import location
from runtui.tui import render

FIRST_RUN = """import runtui
with runtui.start_run("my-experiment", params={"lr": 3e-4}) as run:
    run.log("loss", 0.42)"""

POLL_S = 1.0


class EmptyScreen(Screen[None]):
    class StoreAppeared(Message):
        """A first run was written to the store."""

    def __init__(self, store_path: Path) -> None:
        super().__init__()
        self.store_path = store_path

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="empty"), Center():
            yield Static(self._body(), id="empty-body")
        yield Footer()

    def _body(self) -> Text:
        body = Text()
        body.append("No runs yet\n\n", style="bold")
        body.append("The store ")
        body.append_text(render.safe(render.display_path(self.store_path), style="bold"))
        body.append(" is empty. Log a first run from Python:\n\n")
        for line in FIRST_RUN.splitlines():
            body.append(f"    {line}\n", style="bold")
        body.append("\nor record any command as a run (output, exit code, code snapshot):\n")
        body.append("    runtui run -- python train.py\n", style="bold")
        body.append("\nor explore a demo store with live runs first:\n")
        body.append("    runtui demo\n", style="bold")
        body.append(
            "\nThis screen turns into your runs as soon as one is logged here. q quits.",
            style="dim",
        )
        return body

    def on_mount(self) -> None:
        self.set_interval(POLL_S, self._check)

    def _check(self) -> None:
        if location.db_path(self.store_path).exists():
            self.post_message(self.StoreAppeared())
