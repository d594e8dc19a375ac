"""The compare screen's Code tab: files that differ between two runs' snapshots, and their diffs.

The file list comes from `codediff.diff_runs`, read by `prepare` in a
thread worker with its own connection (the compare screen builds this tab
and starts it when it opens, so the tab is usually filled before it is
first shown): file lists are compared as sets, so only the changed files'
blobs are read. The highlighted file's diff is read on demand, shown plain
at once and syntax-highlighted in a thread, and drawn unified or side by
side (``s``) by a view that draws only the lines on screen; ``]``/``[``
move to the next/previous file. Binary and very large files are named with
their sizes, never dumped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from runtui.errors import RuntuiError
from runtui.services.codediff import (
    CodeDiff,
    FileChange,
    diff_runs,
    file_diff,
)
from runtui.store.reader import Store, open_store
from runtui.store.records import RunRecord
from runtui.tui import render
from runtui.tui.widgets import compare_runs
from runtui.tui.widgets.compare_diff import FileDiffLines
from runtui.tui.widgets.compare_diff_view import DiffView
from runtui.tui.widgets.compare_files import FileList


class CompareCode(Vertical):
    """A changed-file list beside the selected file's diff."""

    DEFAULT_CSS = """
    CompareCode > .compare-summary { height: 1; padding: 0 1; color: $text-muted; }
    CompareCode > Horizontal { height: 1fr; }
    CompareCode #cmp-files { width: 52; height: 1fr; }
    CompareCode #cmp-diff { width: 1fr; height: 1fr; border-left: solid $panel; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "step_file(1)", "next file", key_display="]"),
        Binding("left_square_bracket", "step_file(-1)", "prev file", key_display="["),
        Binding("s", "toggle_layout", "side by side/unified"),
    ]

    def __init__(self, store: Store, runs: list[RunRecord], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.runs = runs
        self.diff: CodeDiff | None = None
        self.side_by_side = False
        self.shown: str | None = None
        self._changes: dict[str, FileChange] = {}
        self._diffs: dict[str, FileDiffLines] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text("reading the two code snapshots…"), classes="compare-summary")
        with Horizontal():
            yield FileList(id="cmp-files")
            yield DiffView(id="cmp-diff")

    @property
    def files(self) -> FileList:
        return self.query_one("#cmp-files", FileList)

    @property
    def diff_view(self) -> DiffView:
        return self.query_one("#cmp-diff", DiffView)

    def show_prepared(self, prepared: PreparedCode) -> None:
        """Show what `prepare` read: the file list and the first file's diff (or its error)."""
        if prepared.error is not None:
            self._summary(render.safe(prepared.error))
            return
        assert prepared.diff is not None
        self._diffs.update(prepared.diffs)
        self.show_diff(prepared.diff)

    def show_diff(self, diff: CodeDiff) -> None:
        """Fill the file list and show the first file's diff."""
        self.diff = diff
        self._changes = {change.path: change for change in diff.changes}
        self.files.set_changes(diff.changes)
        self._update_summary()
        if diff.changes:
            self.show_file(diff.changes[0].path)
        else:
            self.diff_view.show_message(Text("The two runs ran the same code.", style="dim"))

    def _update_summary(self) -> None:
        if self.diff is None:
            return
        old, new = self.runs
        text = Text()
        text.append_text(compare_runs.heading(0, old))
        text.append(" → ")
        text.append_text(compare_runs.heading(1, new))
        text.append(" · " + plain_summary(self.diff))
        text.append(" · side by side" if self.side_by_side else " · unified")
        self._summary(text)

    def _summary(self, text: Text) -> None:
        self.query_one(".compare-summary", Static).update(text)

    # -- one file --------------------------------------------------------

    def show_file(self, path: str) -> None:
        """Show the diff of ``path``: plain at once, syntax-highlighted when a thread has it."""
        change = self._changes.get(path)
        if change is None:
            return
        self.shown = path
        lines = self._diffs.get(path)
        if lines is None:
            lines = self._diffs[path] = FileDiffLines(file_diff(self.store.conn, change), path)
        self.diff_view.show(lines)
        if not lines.highlighted:
            self._highlight(lines)

    @work(thread=True, exclusive=True, group="compare-highlight")
    def _highlight(self, lines: FileDiffLines) -> None:
        lines.highlight()
        self.app.call_from_thread(self._highlighted, lines)

    def _highlighted(self, lines: FileDiffLines) -> None:
        if self.is_attached and self.diff_view.diff is lines:  # still showing it
            self.diff_view.redraw()

    @on(FileList.Highlighted, "#cmp-files")
    def _row_highlighted(self, event: FileList.Highlighted) -> None:
        if event.path != self.shown:
            self.show_file(event.path)

    # -- actions ---------------------------------------------------------

    def action_step_file(self, direction: int) -> None:
        files = self.files
        if files.row_count:
            files.move_cursor((files.cursor + direction) % files.row_count)

    def action_toggle_layout(self) -> None:
        self.side_by_side = not self.side_by_side
        self._update_summary()
        self.diff_view.set_side_by_side(self.side_by_side)


@dataclass
class PreparedCode:
    """What the Code tab needs first: the changed files, and the first file's diff read."""

    diff: CodeDiff | None = None
    diffs: dict[str, FileDiffLines] = field(default_factory=dict)
    error: str | None = None


def prepare(store_path: Path, old: RunRecord, new: RunRecord) -> PreparedCode:
    """Read the changed-file list and the first file's diff (runs in a thread).

    The diff is not highlighted here: shown plain, it is on screen sooner
    when the tab is already open (the first highlighting also loads the
    lexer, 0.1-0.3 s); the tab's own thread colours it next.
    """
    try:
        with open_store(store_path, readonly=True) as store:
            diff = diff_runs(store, old, new)
            prepared = PreparedCode(diff)
            if diff.changes:
                first = diff.changes[0]
                prepared.diffs[first.path] = FileDiffLines(file_diff(store.conn, first), first.path)
            return prepared
    except RuntuiError as exc:
        return PreparedCode(error=str(exc))


def plain_summary(diff: CodeDiff) -> str:
    """``3 files changed, +10 -4`` (no change: "same code")."""
    if diff.same:
        return "same code"
    n = len(diff.changes)
    return f"{n} file{'s' if n != 1 else ''} changed, +{diff.insertions} -{diff.deletions}"
