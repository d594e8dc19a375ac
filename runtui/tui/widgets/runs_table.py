"""The runs table: a Line-API scroll view that draws only the rows on screen.

Textual's DataTable measures every cell of every row on its first render
(about 1.8 s of blocked event loop for 10,000 runs), so this table keeps no
rows at all: `RunSource` knows the ordered ids of the view and fetches the
records of the visible page from the store. Start-up and filtering cost the
same at 10 runs and at 10,000.

Line 0 is the header (it does not scroll vertically); row ``i`` of the view
is drawn on line ``i - scroll_y + 1``. The cursor is a position in the view,
but it follows its *run*: re-sorting or refreshing puts it back on the same
run wherever that run moved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.color import Color, ColorParseError
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from runtui.store.records import RunRecord
from runtui.store.tableview import SortKey
from runtui.tui import render
from runtui.tui.columns import CellContext, Column
from runtui.tui.runs_source import RunSource

GUTTER = 2  # the mark column at the left edge
GAP = 2  # spaces between columns
MARK = "●"
MAX_DRAWN = 5000  # drawn rows kept for redraws (scrolling back, typing a filter)


class RunsTable(ScrollView, can_focus=True):
    """Runs of one view; cursor, marks, sort and the column cursor live here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open run", id="runs.open"),
        Binding("space", "mark", "Mark", id="runs.mark"),
        Binding("s", "sort", "Sort", id="runs.sort"),
        Binding("S", "sort_reverse", "Sort reverse", show=False, id="runs.sort_reverse"),
        Binding("up,k", "cursor_up", "Up", show=False, id="runs.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="runs.down"),
        Binding("left,h", "column_left", "Column left", show=False, id="runs.left"),
        Binding("right,l", "column_right", "Column right", show=False, id="runs.right"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="runs.page_up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="runs.page_down"),
        Binding("g,home", "first", "First run", show=False, id="runs.first"),
        Binding("G,end", "last", "Last run", show=False, id="runs.last"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "runs-table--header",
        "runs-table--header-current",
        "runs-table--cursor",
        "runs-table--marked",
        "runs-table--empty",
    }

    DEFAULT_CSS = """
    RunsTable { background: $surface; }
    RunsTable > .runs-table--header { text-style: bold; color: $text-muted; }
    RunsTable > .runs-table--header-current { text-style: bold reverse; }
    RunsTable > .runs-table--cursor { background: $block-cursor-blurred-background; }
    RunsTable:focus > .runs-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    RunsTable > .runs-table--marked { color: $accent; text-style: bold; }
    RunsTable > .runs-table--empty { color: $text-muted; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    """Position of the highlighted run in the view."""

    current_column: reactive[int] = reactive(0, init=False)
    """Column that `s`/`S` sort by; moved with left/right."""

    class Opened(Message):
        """The user asked to open a run (enter, or a click on the highlighted row)."""

        def __init__(self, record: RunRecord) -> None:
            super().__init__()
            self.record = record

    class SortRequested(Message):
        """The user asked to sort by a column; the screen reloads the view."""

        def __init__(self, sort: SortKey, descending: bool) -> None:
            super().__init__()
            self.sort = sort
            self.descending = descending

    class MarksChanged(Message):
        """Runs were marked or unmarked."""

    def __init__(
        self,
        source: RunSource,
        columns: Sequence[Column] = (),
        *,
        clock: Callable[[], float] = time.time,
        empty_text: str = "No runs.",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.source = source
        self.columns: list[Column] = list(columns)
        self.clock = clock
        self.empty_text = empty_text
        self.marked: set[str] = set()
        self._offsets: list[int] = []
        # row id -> (the record drawn, its cells before row styles); a reloaded record redraws
        self._cells: dict[int, tuple[RunRecord, list[Segment]]] = {}
        # row id -> (what it was drawn from, the finished line): repaints reuse unchanged rows
        self._lines: dict[int, tuple[tuple[object, ...], Strip]] = {}
        self._paint_count = 0  # bumped when the styles of a paint differ from the last
        self._drawn_context: CellContext | None = None
        self._paint: dict[str, Style] = {}
        self._layout_columns()

    # -- data -------------------------------------------------------------

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Replace the columns, keeping the column cursor on the same column if it remains."""
        keys = [c.key for c in self.columns]
        current = keys[self.current_column] if self.columns else None
        if [(c.key, c.width) for c in columns] == [(c.key, c.width) for c in self.columns]:
            return
        self.columns = list(columns)
        self.forget_drawn()
        self._layout_columns()
        new_keys = [c.key for c in self.columns]
        index = new_keys.index(current) if current in new_keys else 0
        self.set_reactive(RunsTable.current_column, index)
        self.refresh()

    def refresh_rows(self, keep: int | None = None) -> None:
        """Re-read nothing, redraw everything: call after the source's view was (re)loaded.

        The cursor goes back on the run with row id ``keep`` (by default the
        run it was on before) wherever that run now is; if the view no longer
        contains it, the cursor stays at the same height.
        """
        position = self.source.position(keep) if keep is not None else None
        if len(self._cells) > MAX_DRAWN:
            self._cells.clear()
            self._lines.clear()
        self._set_virtual_size(Size(self._total_width(), len(self.source) + 1))
        if position is not None:
            self.cursor = position
        else:
            self.cursor = min(self.cursor, max(0, len(self.source) - 1))
        self.refresh()

    def _set_virtual_size(self, size: Size) -> None:
        """Resize the scrollable area, without a relayout of the screen when possible.

        Assigning ``virtual_size`` re-arranges the whole screen (20-40 ms per
        filter keystroke); only the scrollbars need updating unless one of
        them appears or disappears.
        """
        if size == self.virtual_size:
            return
        shown = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
        self.set_reactive(RunsTable.virtual_size, size)
        self._scroll_update(size)
        if (self.show_vertical_scrollbar, self.show_horizontal_scrollbar) != shown:
            self.refresh(layout=True)

    def current_record(self) -> RunRecord | None:
        return self.source.record(self.cursor) if len(self.source) else None

    def move_to(self, row_id: int) -> bool:
        """Put the cursor on a run of the view; False if the view does not contain it."""
        position = self.source.position(row_id)
        if position is None:
            return False
        self.cursor = position
        return True

    # -- geometry ---------------------------------------------------------

    def _layout_columns(self) -> None:
        self._offsets = []
        x = GUTTER
        for column in self.columns:
            self._offsets.append(x)
            x += column.width + GAP

    def _total_width(self) -> int:
        if not self.columns:
            return GUTTER
        return self._offsets[-1] + self.columns[-1].width + 1

    @property
    def _rows_visible(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def on_resize(self) -> None:
        self.virtual_size = Size(self._total_width(), len(self.source) + 1)
        self._scroll_cursor_into_view()

    def watch_cursor(self, old: int, new: int) -> None:
        total = len(self.source)
        if total and not 0 <= new < total:
            self.cursor = max(0, min(new, total - 1))
            return
        self._scroll_cursor_into_view()
        self.refresh()

    def watch_current_column(self) -> None:
        if not self.columns:
            return
        left = self._offsets[self.current_column] - GUTTER
        right = self._offsets[self.current_column] + self.columns[self.current_column].width
        width = self.scrollable_content_region.width
        if left < self.scroll_x:
            self.scroll_to(x=left, animate=False, immediate=True)
        elif right > self.scroll_x + width:
            self.scroll_to(x=max(0, right - width + 1), animate=False, immediate=True)
        self.refresh()

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + self._rows_visible:
            self.scroll_to(y=self.cursor - self._rows_visible + 1, animate=False, immediate=True)

    # -- drawing ----------------------------------------------------------

    def forget_drawn(self, row_ids: Sequence[int] | None = None) -> None:
        """Redraw these rows (default: all) on the next paint, e.g. because time passed."""
        self._drawn_context = None  # read the clock and the theme again
        if row_ids is None:
            self._cells.clear()
            self._lines.clear()
        else:
            for row_id in row_ids:
                self._cells.pop(row_id, None)
                self._lines.pop(row_id, None)
        self.refresh()

    def _cell_context(self) -> CellContext:
        if self._drawn_context is not None:
            return self._drawn_context
        variables = self.app.theme_variables

        def colour(name: str, default: str) -> str:
            """A theme colour as Rich reads it (ANSI themes say "ansi_green")."""
            try:
                return Color.parse(variables.get(name, default)).rich_color.name
            except ColorParseError:
                return default

        self._drawn_context = CellContext(
            now=self.clock(),
            status_styles={
                "running": f"bold {colour('primary', 'blue')}",
                "completed": colour("success", "green"),
                "failed": f"bold {colour('error', 'red')}",
                "canceled": colour("warning", "yellow"),
                "crashed": f"bold {colour('error', 'red')}",
            },
            spark_style=colour("accent", "default"),
        )
        return self._drawn_context

    def render_lines(self, crop: Region) -> list[Strip]:
        """Resolve the styles once per paint (each lookup walks the DOM)."""
        get = self.get_component_rich_style
        base = self.rich_style
        paint = {
            "base": base,
            "header": base + get("runs-table--header"),
            "current": get("runs-table--header-current"),
            "cursor": get("runs-table--cursor"),
            "marked": get("runs-table--marked"),
            "empty": base + get("runs-table--empty"),
        }
        if paint != self._paint:
            self._paint = paint
            self._paint_count += 1
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x = int(self.scroll_x)
        base = self._paint["base"]
        if y == 0:
            return self._header_strip().crop_extend(scroll_x, scroll_x + width, base)
        index = int(self.scroll_y) + y - 1
        if not len(self.source):
            if y == 2:
                text = Strip([Segment(f"  {self.empty_text}", self._paint["empty"])])
                return text.crop_extend(0, width, base)
            return Strip.blank(width, base)
        record = self.source.record(index)
        if record is None:
            return Strip.blank(width, base)
        key = (record.uuid in self.marked, index == self.cursor, scroll_x, width, self._paint_count)
        done = self._lines.get(record.row_id)
        if done is not None and done[0][0] is record and done[0][1:] == key:
            return done[1]
        strip = self._row_strip(record, index)
        line = strip.crop_extend(scroll_x, scroll_x + width, self._row_base_style(index, record))
        self._lines[record.row_id] = ((record, *key), line)
        return line

    def _row_base_style(self, index: int, record: RunRecord) -> Style:
        style = self._paint["base"]
        if record.uuid in self.marked:
            style += self._paint["marked"]
        if index == self.cursor:
            style += self._paint["cursor"]
        return style

    def _row_strip(self, record: RunRecord, index: int) -> Strip:
        drawn = self._cells.get(record.row_id)
        if drawn is not None and drawn[0] is record:
            cells = drawn[1]
        else:
            context = self._cell_context()
            console = self.app.console
            cells = []
            for i, column in enumerate(self.columns):
                if i:
                    cells.append(Segment(" " * GAP))
                cell = column.cell(record, context)
                cells.extend(render.cell_segments(cell, column.width, column.justify, console))
            self._cells[record.row_id] = (record, cells)
        marked = record.uuid in self.marked
        gutter = Segment(f"{MARK if marked else ' '}{' ' * (GUTTER - 1)}")
        base = self._row_base_style(index, record)
        # The cursor's colours win over the cells' own (a status drawn in the
        # cursor's colour would vanish); other rows keep their cell colours.
        on_top = self._paint["cursor"] if index == self.cursor else None
        return Strip(Segment.apply_style([gutter, *cells], base, on_top))

    def _header_strip(self) -> Strip:
        base, current = self._paint["header"], self._paint["current"]
        view = self.source.view
        segments = [Segment(" " * GUTTER, base)]
        for i, column in enumerate(self.columns):
            if i:
                segments.append(Segment(" " * GAP, base))
            label = Text(column.label)
            if column.sort == view.sort:
                label.append(" ▼" if view.descending else " ▲")
            cell = render.fit(label, column.width, column.justify)
            style = base + current if i == self.current_column and self.has_focus else base
            segments.extend(Segment.apply_style(cell.render(self.app.console), style))
        return Strip(segments)

    # -- actions ----------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.cursor = max(0, self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.cursor = min(max(0, len(self.source) - 1), self.cursor + 1)

    def action_page_up(self) -> None:
        self.cursor = max(0, self.cursor - self._rows_visible)

    def action_page_down(self) -> None:
        self.cursor = min(max(0, len(self.source) - 1), self.cursor + self._rows_visible)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = max(0, len(self.source) - 1)

    def action_column_left(self) -> None:
        self.current_column = max(0, self.current_column - 1)

    def action_column_right(self) -> None:
        self.current_column = min(len(self.columns) - 1, self.current_column + 1)

    def action_open(self) -> None:
        record = self.current_record()
        if record is not None:
            self.post_message(self.Opened(record))

    def action_mark(self) -> None:
        record = self.current_record()
        if record is None:
            return
        self.marked.symmetric_difference_update({record.uuid})
        self.post_message(self.MarksChanged())
        self.action_cursor_down()
        self.refresh()

    def action_sort(self) -> None:
        self.sort_by_column(self.current_column, reverse=False)

    def action_sort_reverse(self) -> None:
        self.sort_by_column(self.current_column, reverse=True)

    def sort_by_column(self, index: int, *, reverse: bool) -> None:
        """Sort by a column: `s` picks its natural order, again flips it; `S` the opposite."""
        if not self.columns:
            return
        column = self.columns[index]
        view = self.source.view
        natural = column.key in {"started", "duration"} or column.key.startswith("metric:")
        if column.sort == view.sort and not reverse:
            descending = not view.descending
        else:
            descending = natural != reverse
        self.post_message(self.SortRequested(column.sort, descending))

    # -- mouse ------------------------------------------------------------

    def _column_at(self, x: int) -> int | None:
        x += int(self.scroll_x)
        for i, column in enumerate(self.columns):
            if self._offsets[i] <= x < self._offsets[i] + column.width + GAP:
                return i
        return None

    async def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        column = self._column_at(offset.x)
        if offset.y == 0:
            if column is not None:
                self.current_column = column
                self.sort_by_column(column, reverse=False)
            event.stop()
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self.source):
            if column is not None:
                self.current_column = column
            if (index == self.cursor and event.chain == 1) or event.chain == 2:
                self.cursor = index
                self.action_open()
            else:
                self.cursor = index
        event.stop()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.forget_drawn())

    def on_unmount(self) -> None:
        self.app.theme_changed_signal.unsubscribe(self)  # the callback holds the table

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
