"""The Code tab's list of changed files: status letter, path and line counts, one row each.

A line-API view (like the diff beside it): each row is drawn when it is
on screen, so a list of thousands of files costs no more to show than ten,
and filling it mounts nothing. It moves like the other lists (arrows,
``j``/``k``, ``g``/``G``, page keys, a click) and posts `Highlighted`
with the path under the cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from runtui.services.codediff import ADDED, MODE, REMOVED, FileChange
from runtui.tui import render

STATUS_LETTERS = {ADDED: "A", REMOVED: "D", MODE: "T"}  # anything else: M (modified)
PATH_WIDTH = 36


def counts_text(change: FileChange) -> Text:
    """``+12 -3``, or what the file is when its lines are not counted."""
    if change.binary:
        return Text("binary", style="dim")
    if change.too_large:
        return Text("too large", style="dim")
    if change.status == MODE:
        return Text("mode", style="dim")
    text = Text()
    text.append(f"+{change.added or 0}", style="green")
    text.append(" ")
    text.append(f"-{change.removed or 0}", style="red")
    return text


def row_text(change: FileChange) -> Text:
    """`` M path  +1 -2``: the letter, the path cut to `PATH_WIDTH`, the counts."""
    text = Text(no_wrap=True, end="")
    text.append(" ")
    text.append(STATUS_LETTERS.get(change.status, "M"), style="bold")
    text.append(" ")
    text.append_text(render.fit(render.safe(change.path), PATH_WIDTH))
    text.append(" ")
    text.append_text(counts_text(change))
    return text


HEADER = Text.assemble("   ", "file".ljust(PATH_WIDTH), " lines", end="")


class FileList(ScrollView, can_focus=True):
    """Changed files under a one-line header; the cursor row is the file shown."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"file-list--header", "file-list--cursor"}

    DEFAULT_CSS = """
    FileList { background: $surface; }
    FileList:focus { background-tint: $foreground 5%; }
    FileList > .file-list--header { text-style: bold; background: $panel; color: $foreground; }
    FileList > .file-list--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    FileList:focus > .file-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to ``path``."""

        def __init__(self, file_list: FileList, path: str) -> None:
            super().__init__()
            self.file_list = file_list
            self.path = path

        @property
        def control(self) -> FileList:
            return self.file_list

    # Filling the list moves the scrollbars, not the widgets around it.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.changes: list[FileChange] = []
        self.cursor = 0
        self._rows: dict[int, Strip] = {}
        self._styles: tuple[Style, Style, Style] | None = None

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self.changes)

    @property
    def current(self) -> FileChange | None:
        return self.changes[self.cursor] if self.changes else None

    def set_changes(self, changes: Sequence[FileChange]) -> None:
        """Show ``changes`` with the cursor on the first (no `Highlighted` is posted)."""
        self.changes = list(changes)
        self.cursor = 0
        self._rows.clear()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.virtual_size = Size(0, len(self.changes) + 1)  # + the header
        self.refresh()

    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` (clamped), keep it in view, post `Highlighted`."""
        if not self.changes:
            return
        row = max(0, min(row, len(self.changes) - 1))
        if row != self.cursor:
            self.cursor = row
            self.refresh()
        visible = max(1, self.scrollable_content_region.height - 1)
        if row < self.scroll_y:
            self.scroll_to(y=row, animate=False)
        elif row >= self.scroll_y + visible:
            self.scroll_to(y=row - visible + 1, animate=False)
        self.post_message(self.Highlighted(self, self.changes[row].path))

    def action_move(self, step: int) -> None:
        self.move_cursor(self.cursor + step)

    def action_page(self, direction: int) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        self.move_cursor(self.cursor + direction * page)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.changes) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            self.move_cursor(int(self.scroll_y) + offset.y - 1)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._styles = (
            self.rich_style,
            self.get_component_rich_style("file-list--header"),
            self.get_component_rich_style("file-list--cursor"),
        )
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        base, header, cursor = self._styles or (self.rich_style, Style(), Style())
        width = self.scrollable_content_region.width
        if y == 0:
            line = Strip(HEADER.render(self.app.console, end=""))
            return line.crop_extend(0, width, header).apply_style(base + header)
        index = int(self.scroll_y) + y - 1
        if index >= len(self.changes):
            return Strip.blank(width, base)
        strip = self._rows.get(index)
        if strip is None:
            strip = self._rows[index] = Strip(
                row_text(self.changes[index]).render(self.app.console, end="")
            )
        if index == self.cursor:
            line = Strip(Segment.apply_style(strip, post_style=cursor))
            return line.crop_extend(0, width, base + cursor).apply_style(base)
        return strip.crop_extend(0, width, base).apply_style(base)
