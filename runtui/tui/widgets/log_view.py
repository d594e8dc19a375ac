"""The Logs tab: a run's captured output, opened at its end, searchable.

A log can be gigabytes, so only its last `TAIL_LINES` lines are read
(`services.logs.read_tail` seeks back from the end) and the view keeps at
most `MAX_LINES`. Every line goes through `textsafe.display_line` before
it reaches the widget: ``\\r`` progress-bar redraws are folded to what a
terminal would finally show, and escape sequences and control characters
are removed, so nothing in a log can move the cursor, clear the screen or
retitle the window. Colours are dropped with them (plain text keeps
`Log`'s speed: one `write_lines` call per batch, never a call per line).

Search (``/`` focuses the search line, then ``n``/``N``) covers the lines loaded; matching is
case-insensitive unless the query has a capital letter ("smart case").
``f`` toggles following: new lines scroll the view only while following,
scrolling up stops following, ``G``/``end`` goes back to the end. ``w``
toggles wrapping lines longer than the view (unwrapped, they scroll sideways).

`append_lines` is how a live feed adds what was written since; `follower`
is a `LogFollower` positioned at the end of what was loaded, for that feed.
While a run is live, the line it is still writing (a progress bar redrawn
with ``\r`` until the epoch ends) is the log's last row, dimmed, updated as
it changes, and becomes a line of the log when its newline comes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from rich.cells import cell_len, chop_cells
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.reactive import Reactive
from textual.strip import Strip
from textual.widgets import Input, Log, Static

from runtui.services.logs import LogFollower, read_tail
from runtui.services.textsafe import display_line, plain
from runtui.services.units import human_size, short_path

TAIL_LINES = 5_000
MAX_LINES = 50_000
MATCH_STYLE = Style(reverse=True)
CURRENT_MATCH_STYLE = Style(bold=True, color="black", bgcolor="yellow")
PARTIAL_STYLE = Style(dim=True)


class SearchableLog(Log):
    """A `Log` that highlights the occurrences of a search string and can wrap long lines.

    Wrapped, the view's rows are pieces of lines: ``_rows`` maps each row to
    (line, start, end) character offsets of the displayed line, extended as
    lines arrive and rebuilt when the width changes or lines are pruned. The
    scrollable height is then the number of rows (`validate_virtual_size`
    catches every place `Log` sets it), and there is nothing to scroll
    sideways. `line_at` and `row_of` translate between the two.

    `partial`, the line being written, is one more row after the lines
    (never wrapped: cut to the view's width when wrapping).
    """

    needle = ""
    current: int | None = None
    wrap = False
    partial = ""

    # Its size never depends on its lines: new lines move the scrollbars, not the screen
    # (`Widget.virtual_size` asks for a layout of the whole screen on every change).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)
        self.refresh()

    def __init__(self, *, max_lines: int | None = None, id: str | None = None) -> None:
        super().__init__(max_lines=max_lines, id=id)
        self._rows: list[tuple[int, int, int]] = []
        self._row_lines: list[int] = []  # the line of each row, for bisecting
        self._wrapped = 0  # lines already cut into rows
        self._wrap_width = 0

    def set_search(self, needle: str, current: int | None) -> None:
        self.needle, self.current = needle, current
        self._render_line_cache.clear()
        self.refresh()

    def set_partial(self, partial: str) -> None:
        """Show ``partial`` (already made safe to display) as the row after the lines."""
        if partial == self.partial:
            return
        appears_or_goes = not partial or not self.partial
        self.partial = partial
        if appears_or_goes:  # one row more or less: the size's watcher redraws the view
            self.virtual_size = Size(self._width, self.line_count)
        else:  # a redraw of the bar: only its row (it changes several times a second)
            if cell_len(partial) > self.virtual_size.width and not self.wrap:
                self.virtual_size = Size(self._width, self.line_count)  # scrolls wider
            row = len(self._sync_rows()) if self.wrap else len(self._lines)
            self.refresh_lines(row)

    def set_wrap(self, wrap: bool) -> None:
        """Wrap long lines (or not), keeping the line at the top of the view in place."""
        if wrap == self.wrap:
            return
        top = self.line_at(int(self.scroll_y))
        at_end = self.is_vertical_scroll_end
        self.wrap = wrap
        self._forget_rows()
        self.virtual_size = Size(self._width, self.line_count)  # validated for the mode
        if wrap:
            self.scroll_to(x=0, animate=False, immediate=True)
        self._keep_in_view(top, at_end)

    def line_at(self, row: int) -> int:
        """The line shown on view row ``row``."""
        if not self.wrap:
            return row
        rows = self._sync_rows()
        if not rows:
            return 0
        return rows[max(0, min(row, len(rows) - 1))][0]

    def row_of(self, line: int) -> int:
        """The first view row of line ``line``."""
        if not self.wrap:
            return line
        self._sync_rows()
        return bisect_left(self._row_lines, line)

    # -- wrapping --------------------------------------------------------

    def validate_virtual_size(self, size: Size) -> Size:
        extra = 1 if self.partial else 0
        if not self.wrap:
            width = max(size.width, cell_len(self.partial)) if extra else size.width
            return Size(width, len(self._lines) + extra)
        return Size(self._wrap_columns(), len(self._sync_rows()) + extra)

    def _wrap_columns(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _forget_rows(self) -> None:
        self._rows, self._row_lines, self._wrapped = [], [], 0

    def _sync_rows(self) -> list[tuple[int, int, int]]:
        """Cut the lines not cut yet into rows of the current width."""
        width = self._wrap_columns()
        if width != self._wrap_width or self._wrapped > len(self._lines):
            self._forget_rows()
            self._wrap_width = width
        rows, row_lines = self._rows, self._row_lines
        for y in range(self._wrapped, self.line_count):
            line = self._process_line(self._lines[y])
            for start, end in cut(line, width):
                rows.append((y, start, end))
                row_lines.append(y)
        self._wrapped = max(self._wrapped, self.line_count)
        return rows

    def _prune_max_lines(self) -> None:
        if self.max_lines is not None and len(self._lines) > self.max_lines:
            self._forget_rows()  # line numbers shift
        super()._prune_max_lines()

    def clear(self) -> SearchableLog:
        self._forget_rows()
        return super().clear()

    def on_resize(self) -> None:
        if self.wrap and self._wrap_columns() != self._wrap_width:
            top = self.line_at(int(self.scroll_y))
            at_end = self.is_vertical_scroll_end
            self.virtual_size = Size(self._width, self.line_count)
            self._keep_in_view(top, at_end)

    def _keep_in_view(self, top: int, at_end: bool) -> None:
        if at_end and self.auto_scroll:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self.scroll_to(y=self.row_of(top), animate=False, immediate=True)

    # -- drawing ---------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        if not self.wrap:
            return super().render_line(y)
        rich_style = self.rich_style
        rows = self._sync_rows()
        row = int(self.scroll_y) + y
        if row == len(rows) and self.partial:
            return self._partial_strip(rich_style).crop_extend(0, self.size.width, rich_style)
        if row >= len(rows):
            return Strip.blank(self.size.width, rich_style)
        line, start, end = rows[row]
        text = self._line_text(line, rich_style)[start:end]
        strip = Strip(text.render(self.app.console), text.cell_len)
        return strip.crop_extend(0, self.size.width, rich_style)

    def _render_line(self, y: int, scroll_x: int, width: int) -> Strip:
        if y != len(self._lines) or not self.partial:
            return super()._render_line(y, scroll_x, width)
        rich_style = self.rich_style
        return self._partial_strip(rich_style).crop_extend(scroll_x, scroll_x + width, rich_style)

    def _partial_strip(self, rich_style: Style) -> Strip:
        text = Text(self.partial, no_wrap=True)
        text.stylize(rich_style + PARTIAL_STYLE)  # a span: `Text.render` ignores the base style
        return Strip(text.render(self.app.console), text.cell_len)

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        if not self.needle or find(self._lines[y], self.needle) < 0:
            return super()._render_line_strip(y, rich_style)
        text = self._line_text(y, rich_style)
        return Strip(text.render(self.app.console), text.cell_len)

    def _line_text(self, y: int, rich_style: Style) -> Text:
        """Line ``y`` as displayed, with the search's matches marked."""
        shown = self._process_line(self._lines[y])
        text = Text(shown, no_wrap=True)
        text.stylize(rich_style)  # a span: `Text.render` ignores the base style
        needle = self.needle
        if needle:
            style = CURRENT_MATCH_STYLE if y == self.current else MATCH_STYLE
            start = find(shown, needle)
            while start >= 0:
                text.stylize(style, start, start + len(needle))
                start = find(shown, needle, start + len(needle))
        return text


def cut(line: str, width: int) -> list[tuple[int, int]]:
    """(start, end) character offsets of the rows ``line`` takes at ``width`` cells."""
    if line.isascii():
        if len(line) <= width:
            return [(0, len(line))]
        return [(i, min(i + width, len(line))) for i in range(0, len(line), width)]
    pieces, start = [], 0
    for chunk in chop_cells(line, width):
        pieces.append((start, start + len(chunk)))
        start += len(chunk)
    return pieces or [(0, 0)]


def safe_lines(lines: Iterable[str]) -> list[str]:
    """Raw captured lines as shown: redraws folded, escape sequences removed."""
    return [display_line(part) for line in lines for part in line.rstrip("\r\n").split("\n")]


def find(line: str, needle: str, start: int = 0) -> int:
    """Index of ``needle`` in ``line`` from ``start``, smart-case; -1 when absent."""
    if needle.islower():
        return line.lower().find(needle, start)
    return line.find(needle, start)


class LogView(Vertical):
    """Status line, the log, and a search box that appears on ``/``."""

    DEFAULT_CSS = """
    LogView #log-status { height: 1; padding: 0 1; color: $text-muted; }
    LogView SearchableLog { height: 1fr; }
    LogView #log-search { height: 1; border: none; padding: 0 1; }
    LogView #log-search:focus { border: none; background: $boost; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "open_search", "search", key_display="/"),
        Binding("n", "next_match(1)", "next"),
        Binding("N", "next_match(-1)", "previous", key_display="N"),
        Binding("f", "toggle_follow", "follow"),
        Binding("w", "toggle_wrap", "wrap"),
        Binding("G,end", "to_end", "end", key_display="G"),
        Binding("g,home", "to_start", "top", show=False),
    ]

    def __init__(self, log_path: Path, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.log_path = log_path
        self.follower: LogFollower | None = None
        self.loaded = False
        self._source = ""
        self._search_note = ""
        self._live = False  # a live feed delivers the lines (its first update carries the tail)
        self._unseen = 0  # live lines that arrived below a view scrolled up

    def on_mount(self) -> None:
        self.watch(self.log, "scroll_y", self._scrolled, init=False)

    def compose(self) -> ComposeResult:
        yield Static(id="log-status", markup=False)
        yield SearchableLog(max_lines=MAX_LINES, id="log")
        yield Input(placeholder="/ to search the loaded lines · n/N next/previous",
                    id="log-search")  # fmt: skip

    @property
    def log(self) -> SearchableLog:
        return self.query_one(SearchableLog)

    # -- loading ---------------------------------------------------------

    def load(self) -> None:
        """Read the end of the log (once) in a thread worker."""
        if self.loaded:
            return
        self.loaded = True
        self._update_status("reading…")
        self._read_tail()

    @work(thread=True, exclusive=True, group="log-tail")
    def _read_tail(self) -> None:
        """Read and sanitize in this thread; the UI thread only adds the finished lines."""
        path = self.log_path
        try:
            size = path.stat().st_size
            lines = read_tail(path, TAIL_LINES)
        except OSError:
            self.app.call_from_thread(self._show_tail, None, [], 0, 0)
            return
        follower = LogFollower(path, from_end=True)
        self.app.call_from_thread(self._show_tail, follower, safe_lines(lines), len(lines), size)

    def _show_tail(
        self, follower: LogFollower | None, safe: list[str], count: int, size: int
    ) -> None:
        self.follower = follower
        if follower is None:
            self._source = "no output was captured for this run"
        elif count >= TAIL_LINES:
            self._source = f"last {count:,} lines of {human_size(size)}"
        else:
            self._source = f"{count:,} line{'s' if count != 1 else ''}, {human_size(size)}"
        if not self._live and safe:
            self.log.write_lines(safe)
            self.log.scroll_end(animate=False, immediate=True)
        self._update_status()

    def append_lines(self, lines: Iterable[str]) -> None:
        """Add raw captured lines (sanitized here) in one batch."""
        if safe := safe_lines(lines):
            self.log.write_lines(safe)

    def show_live(self, lines: list[str], reset: bool, partial: str = "") -> None:
        """Live: lines written since; ``reset`` replaces what is shown (the feed's first
        update, or the file was truncated or replaced); ``partial``, the line being
        written (a progress bar), shown as the log's last row until it ends.

        The view follows while it is at the bottom; scrolled up, it stays put
        and counts the new lines below until ``G`` (or scrolling down) returns.
        """
        log = self.log
        if reset:
            self._live = True
            log.clear()
            self._unseen = 0
        at_end = log.is_vertical_scroll_end
        self.append_lines(lines)
        log.set_partial(display_line(partial))
        if log.auto_scroll and (at_end or reset):
            log.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self._unseen += len(lines)
        self._update_status()

    def _scrolled(self) -> None:
        if self._unseen and self.log.is_vertical_scroll_end:
            self._unseen = 0
            self._update_status()

    # -- status ----------------------------------------------------------

    def _update_status(self, note: str = "") -> None:
        parts = [note or self._source]
        if self._unseen:
            plural = "s" if self._unseen != 1 else ""
            parts.append(f"{self._unseen:,} new line{plural} below (G: follow)")
        else:
            parts.append("following" if self.log.auto_scroll else "not following (f)")
        parts.append("wrapped" if self.log.wrap else "no wrap (w)")
        if self._search_note:
            parts.append(self._search_note)
        parts.append(short_path(self.log_path))
        self.query_one("#log-status", Static).update(Text(" · ".join(p for p in parts if p)))

    # -- search ----------------------------------------------------------

    def action_open_search(self) -> None:
        box = self.query_one("#log-search", Input)
        box.value = self.log.needle
        self.screen.set_focus(box)  # at once: keys typed right after "/" go to the box

    def close_search(self) -> None:
        self.log.focus()

    def handle_escape(self) -> bool:
        """Close the search box, else clear the search; False when there was neither."""
        if self.query_one("#log-search", Input).has_focus:
            self.close_search()
            return True
        if self.log.needle:
            self.log.set_search("", None)
            self._search_note = ""
            self._update_status()
            return True
        return False

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        needle = plain(event.value)
        self.close_search()
        self.log.set_search(needle, None)
        if needle:
            self.log.auto_scroll = False
            top = self.log.line_at(int(self.log.scroll_y))
            self._jump(self._next_line(top - 1, 1))
        else:
            self._search_note = ""
            self._update_status()

    def action_next_match(self, direction: int) -> None:
        if not self.log.needle:
            self.action_open_search()
            return
        current = self.log.current
        if current is None:
            top = self.log.line_at(int(self.log.scroll_y))
            current = top - 1 if direction > 0 else top
        self.log.auto_scroll = False
        self._jump(self._next_line(current, direction))

    def _next_line(self, after: int, direction: int) -> int | None:
        """The next line holding the needle after line ``after``, wrapping around."""
        lines, needle = self.log.lines, self.log.needle
        n = len(lines)
        for k in range(1, n + 1):
            y = (after + direction * k) % n
            if find(lines[y], needle) >= 0:
                return y
        return None

    def _jump(self, line: int | None) -> None:
        log = self.log
        needle = log.needle
        if line is None:
            self._search_note = f"no match for {needle!r}"
            log.set_search(needle, None)
        else:
            hits = [y for y, text in enumerate(log.lines) if find(text, needle) >= 0]
            self._search_note = f"match {hits.index(line) + 1}/{len(hits)} for {needle!r}"
            log.set_search(needle, line)
            row = log.row_of(line)
            log.scroll_to(y=max(0, row - log.size.height // 2), animate=False, immediate=True)
        self._update_status()

    # -- following -------------------------------------------------------

    def action_toggle_follow(self) -> None:
        log = self.log
        log.auto_scroll = not log.auto_scroll
        if log.auto_scroll:
            log.scroll_end(animate=False, immediate=True)
        self._update_status()

    def action_toggle_wrap(self) -> None:
        self.log.set_wrap(not self.log.wrap)
        self._update_status()

    def action_to_end(self) -> None:
        self._unseen = 0
        self.log.auto_scroll = True
        self.log.scroll_end(animate=False, immediate=True)
        self._update_status()

    def action_to_start(self) -> None:
        self.log.auto_scroll = False
        self.log.scroll_home(animate=False, immediate=True)
        self._update_status()
