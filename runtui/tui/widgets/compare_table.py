"""A key-by-run table: one row per key, one column per run, differences marked.

Used for params & tags and for the environment. A row whose values differ
gets a ``≠`` in the first column and its values in bold colour, so it reads
without colour too; ``e`` hides the rows that are equal in every run. Long
values (an argv, a path) are cut to the column width in the table, and the
highlighted row is shown in full, wrapped, under the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from runtui.services.compare import MISSING, KeyRow
from runtui.store.records import RunRecord
from runtui.tui import render
from runtui.tui.widgets import compare_runs
from runtui.tui.widgets.vim_table import VimDataTable

DIFFERS = "≠"
KEY_MAX = 28
VALUE_MIN, VALUE_MAX = 12, 48
ABSENT = "–"


def value_text(value: Any, *, differs: bool) -> Text:
    """A value as literal one-line text; a missing key is a dim dash, an empty one ``""``."""
    if value is MISSING:
        return Text(ABSENT, style="dim")
    if value == "":
        return Text('""', style="dim")
    return render.safe(value, style="bold yellow" if differs else "")


class CompareTable(Vertical):
    """Rows of `KeyRow`s for the given runs, differing rows marked, equal ones hideable."""

    DEFAULT_CSS = """
    CompareTable > .compare-summary { height: 1; padding: 0 1; color: $text-muted; }
    CompareTable > DataTable { height: 1fr; }
    CompareTable > .compare-detail {
        height: auto; max-height: 8; padding: 0 1; border-top: solid $panel;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "toggle_equal", "hide/show equal"),
    ]

    def __init__(self, noun: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.noun = noun
        self.runs: list[RunRecord] = []
        self.rows: list[KeyRow] = []
        self.hide_equal = False

    def compose(self) -> ComposeResult:
        yield Static(classes="compare-summary", markup=False)
        yield VimDataTable(cursor_type="row", zebra_stripes=True)
        yield Static(classes="compare-detail", markup=False)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(DataTable)

    def show(self, runs: Sequence[RunRecord], rows: Sequence[KeyRow]) -> None:
        self.runs, self.rows = list(runs), list(rows)
        self._fill()

    def visible_rows(self) -> list[KeyRow]:
        return [r for r in self.rows if r.differs or not self.hide_equal]

    def _fill(self) -> None:
        table = self.table
        table.clear(columns=True)
        shown = self.visible_rows()
        table.add_column(" ", key="mark", width=1)
        # every width is set here: an automatic one is only worked out when the app is idle
        table.add_column("kind", key="kind", width=max([len(r.section) for r in shown] + [4]))
        key_width = min(KEY_MAX, max([len(r.key) for r in shown] + [3]))
        table.add_column("key", key="key", width=key_width)
        room = max(0, self.app.size.width - key_width - 14) // max(1, len(self.runs)) - 2
        for i, run in enumerate(self.runs):
            widest = max([render.safe(r.values[i]).cell_len for r in shown] + [len(run.name) + 2])
            width = max(VALUE_MIN, min(VALUE_MAX, widest, room))
            table.add_column(compare_runs.heading(i, run, width), key=f"run{i}", width=width)
        for n, row in enumerate(shown):
            differs = row.differs
            cells = [
                Text(DIFFERS if differs else " ", style="bold yellow"),
                Text(row.section, style="dim"),
                render.safe(row.key, style="bold" if differs else ""),
                *(value_text(v, differs=differs) for v in row.values),
            ]
            table.add_row(*cells, key=str(n))
        self._update_summary()
        self._show_detail(shown[0] if shown else None)

    def _update_summary(self) -> None:
        total = len(self.rows)
        differ = sum(r.differs for r in self.rows)
        text = f"{total} {self.noun}{'s' if total != 1 else ''} · {differ} differ"
        if self.hide_equal and total - differ:
            text += f" · {total - differ} equal hidden (e to show)"
        elif total - differ:
            text += " · e hides equal ones"
        self.query_one(".compare-summary", Static).update(Text(text))

    def _show_detail(self, row: KeyRow | None) -> None:
        detail = self.query_one(".compare-detail", Static)
        if row is None:
            detail.update(Text("nothing differs" if self.hide_equal else "", style="dim"))
            return
        text = render.safe(f"{row.section} {row.key}", style="bold")
        for i, value in enumerate(row.values):
            text.append("\n")
            text.append(compare_runs.letter(i), style=compare_runs.style(i))
            text.append(" ")
            if value is MISSING:
                text.append("(not set)", style="dim")
            else:
                text.append(render.safe(render.full_value(value)).plain)
        text.no_wrap = False
        detail.update(text)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        shown = self.visible_rows()
        index = int(event.row_key.value or 0)
        if 0 <= index < len(shown):
            self._show_detail(shown[index])

    def action_toggle_equal(self) -> None:
        self.hide_equal = not self.hide_equal
        self._fill()

    def focus_table(self) -> None:
        self.table.focus()
