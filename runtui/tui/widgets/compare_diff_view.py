"""A scrolling view of one file's diff that draws only the lines on screen.

Built on the line API: `render_line` asks `FileDiffLines` for the one line
at that row, so a diff of any length costs the same to show, and drawn
lines are kept per (line, layout, width) until the diff or its
highlighting changes. Its scrollable size never changes the screen's
layout (like the Logs tab's view): showing another file moves the
scrollbars, not the widgets around it.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from runtui.tui.widgets.compare_diff import FileDiffLines


class DiffView(ScrollView, can_focus=True):
    """One file's diff, unified or side by side, or a one-line message."""

    DEFAULT_CSS = """
    DiffView { background: $surface; }
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.diff: FileDiffLines | None = None
        self.message: Text | None = None
        self.side_by_side = False
        self._cache: LRUCache[tuple[int, bool, int, bool], Strip] = LRUCache(1024)
        self._style: Style | None = None  # the widget's style, looked up once per render

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)
        self.refresh()

    @property
    def line_count(self) -> int:
        """Rows the view scrolls over."""
        if self.diff is None:
            return 1 if self.message is not None else 0
        return len(self.diff.rows) if self.side_by_side else self.diff.unified_count

    def show(self, diff: FileDiffLines) -> None:
        """Show ``diff`` from its first line."""
        self.diff, self.message = diff, None
        self._reset()

    def show_message(self, message: Text) -> None:
        """Show one line instead of a diff."""
        self.diff, self.message = None, message
        self._reset()

    def set_side_by_side(self, side_by_side: bool) -> None:
        self.side_by_side = side_by_side
        self._reset()

    def redraw(self) -> None:
        """Draw the lines again (the diff's highlighting arrived)."""
        self._cache.clear()
        self.refresh()

    def _reset(self) -> None:
        self._cache.clear()
        width = 0
        if self.diff is not None and not self.side_by_side:
            width = self.diff.unified_width
        elif self.message is not None:
            width = self.message.cell_len
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.virtual_size = Size(width, self.line_count)
        self.refresh()

    def on_resize(self) -> None:
        if self.side_by_side:
            self.refresh()

    def _line(self, index: int, width: int) -> Strip:
        """Line ``index`` as a strip of its full width (side by side: ``width`` cells)."""
        highlighted = self.diff is not None and self.diff.highlighted
        key = (index, self.side_by_side, width if self.side_by_side else 0, highlighted)
        strip = self._cache.get(key)
        if strip is None:
            if self.diff is None:
                text = self.message or Text()
            elif self.side_by_side:
                text = self.diff.side_by_side_line(index, width)
            else:
                text = self.diff.unified_line(index)
            strip = Strip(text.render(self.app.console, end=""))
            self._cache[key] = strip
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        self._style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        style = self._style or self.rich_style
        if index >= self.line_count:
            return Strip.blank(width, style)
        strip = self._line(index, width)
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_style(style)
