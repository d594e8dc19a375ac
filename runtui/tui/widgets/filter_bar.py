"""The `/` filter bar: the query language typed live, errors shown in place.

Every keystroke re-filters the table when the text parses; when it does not,
the error (with a caret under the position) shows below the input and the
table keeps the last good result. Enter keeps the filter and returns to the
table; Escape puts back the filter that was active before the bar opened.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static

from runtui.errors import QueryError
from runtui.tui import render

PROMPT = "/ "
PLACEHOLDER = "lr>=1e-4 status=failed metrics.val_loss<0.3 tag:baseline bert"


class FilterBar(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel filter", id="filter.cancel"),
    ]

    class Changed(Message):
        """The text changed: filter live."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Applied(Message):
        """Enter: keep this filter."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Cancelled(Message):
        """Escape: go back to the filter from before."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield Static(PROMPT, id="filter-prompt")
            yield Input(placeholder=PLACEHOLDER, id="filter-input", select_on_focus=False)
        yield Static("", id="filter-error")

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    def open(self, text: str) -> None:
        """Show the bar with ``text`` and focus it."""
        self.display = True
        self.input.value = text
        self.input.cursor_position = len(text)
        self.show_error(None)
        self.input.focus()

    def close(self) -> None:
        self.display = False
        self.show_error(None)

    def show_error(self, error: QueryError | None) -> None:
        """Show where the query is wrong (None clears)."""
        label = self.query_one("#filter-error", Static)
        if error is None:
            if label.display:
                label.display = False
            return
        caret = " " * (len(PROMPT) + 1 + max(0, error.position))
        text = Text(caret + "^ ", style="bold")
        text.append_text(render.safe(error.reason))
        text.append(f" (at position {error.position + 1})", style="dim")
        label.update(text)
        label.display = True

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied(event.value))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())
