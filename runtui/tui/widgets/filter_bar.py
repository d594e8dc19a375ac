"""The `/` filter bar: the query language typed live, errors shown in place.

Every keystroke re-filters the table when the text parses; when it does not,
the error (with a caret under the position) shows below the input and the
table keeps the last good result. Enter keeps the filter and returns to the
table; Escape puts back the filter that was active before the bar opened.

Typing must not re-arrange the screen (a relayout costs 20-40 ms a key at
160x45): the bar has a fixed height, the line under the input always shows
either a hint or the error (a `StatusLine`, repainted in place), and the
input does not ask for a layout when its text grows (`FilterInput`).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import Input, Static

from runtui.errors import QueryError
from runtui.tui import render
from runtui.tui.widgets.status_line import StatusLine

PROMPT = "/ "
PLACEHOLDER = "lr>=1e-4 status=failed metrics.val_loss<0.3 tag:baseline bert"
HINT = "enter: keep this filter · escape: cancel · words search names, key<op>value compares"


class FilterInput(Input):
    """An `Input` whose scrollable width follows its text without a relayout.

    `Input` sets its virtual size on every change of its value, and
    `Widget.virtual_size` asks for a layout of the screen when it changes;
    with a fixed width (as here) only a repaint is needed.
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)


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
            yield FilterInput(placeholder=PLACEHOLDER, id="filter-input", select_on_focus=False)
        yield StatusLine(id="filter-error")

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    def open(self, text: str) -> None:
        """Show the bar with ``text`` and focus it."""
        self.display = True
        self.input.value = text
        self.input.cursor_position = len(text)
        self.show_error(None)
        # At once, not after the keys already queued (`focus()` waits for them):
        # "/" typed quickly with the filter must not sort the table or open a run.
        self.screen.set_focus(self.input)

    def close(self) -> None:
        self.display = False
        self.show_error(None)

    def show_error(self, error: QueryError | None) -> None:
        """Show where the query is wrong (None clears)."""
        label = self.query_one("#filter-error", StatusLine)
        label.set_class(error is not None, "-error")
        if error is None:
            label.text = Text(" " * (len(PROMPT) + 1) + HINT)
            return
        caret = " " * (len(PROMPT) + 1 + max(0, error.position))
        text = Text(caret + "^ ", style="bold")
        text.append_text(render.safe(error.reason))
        text.append(f" (at position {error.position + 1})", style="dim")
        label.text = text

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied(event.value))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())
