"""Pick the params and metrics the runs table shows (remembered per store by the caller)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widgets import Footer, SelectionList, Static
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.selection_list import Selection

from runtui.store.tableview import KeyStats
from runtui.tui import render


@dataclass(frozen=True)
class ColumnChoice:
    """None means automatic: params that vary, the most logged metrics."""

    params: list[str] | None
    metrics: list[str] | None


CHOSEN, NOT_CHOSEN = "✓", " "


class ChoiceList(SelectionList[str]):
    """A selection list that also moves with j/k, its boxes ticked or empty.

    Textual draws the same ``X`` in every box, chosen or not, and tells them
    apart by colour alone; a tick reads on any terminal and to anyone.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        segments = list(line)
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return line
        if len(segments) < 4 or segments[1].cell_length != 1:  # not [left, box, right, ...]
            return line
        mark = CHOSEN if option.value in self.selected else NOT_CHOSEN
        segments[1] = Segment(mark, segments[1].style, segments[1].control)
        return Strip(segments, line.cell_length)


class ColumnChooser(ModalScreen[ColumnChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "apply", "Apply", priority=True, id="columns.apply"),
        Binding("escape", "cancel", "Cancel", id="columns.cancel"),
        Binding("a", "automatic", "Automatic", id="columns.automatic"),
    ]

    def __init__(
        self,
        params: Sequence[KeyStats],
        metrics: Sequence[KeyStats],
        shown_params: Sequence[str],
        shown_metrics: Sequence[str],
    ) -> None:
        super().__init__()
        self._params = params
        self._metrics = metrics
        self._shown_params = set(shown_params)
        self._shown_metrics = set(shown_metrics)

    def compose(self) -> ComposeResult:
        with Vertical(id="chooser"):
            yield Static(
                "Columns · space toggles · enter applies · a: automatic · escape cancels",
                id="chooser-title",
            )
            with Horizontal():
                with Vertical():
                    yield Static("Params", classes="chooser-heading")
                    yield ChoiceList(
                        *(self._item(s, s.name in self._shown_params) for s in self._params),
                        id="chooser-params",
                    )
                with Vertical():
                    yield Static("Metrics", classes="chooser-heading")
                    yield ChoiceList(
                        *(self._item(s, s.name in self._shown_metrics) for s in self._metrics),
                        id="chooser-metrics",
                    )
        yield Footer()

    @staticmethod
    def _item(stats: KeyStats, shown: bool) -> Selection[str]:
        prompt = render.safe(stats.name)
        prompt.append(f"  {stats.runs} run{'s' if stats.runs != 1 else ''}", style="dim")
        if stats.distinct > 1:
            prompt.append(f" · {stats.distinct} values", style="dim")
        return Selection(prompt, stats.name, shown)

    def on_mount(self) -> None:
        for selection in self.query(SelectionList):
            if selection.option_count:
                selection.highlighted = 0
        first = "#chooser-params" if self._params else "#chooser-metrics"
        self.query_one(first, SelectionList).focus()

    def _selected(self, list_id: str) -> list[str]:
        chosen = set(self.query_one(list_id, SelectionList).selected)
        options = self._params if list_id == "#chooser-params" else self._metrics
        return [s.name for s in options if s.name in chosen]

    def action_apply(self) -> None:
        self.dismiss(
            ColumnChoice(self._selected("#chooser-params"), self._selected("#chooser-metrics"))
        )

    def action_automatic(self) -> None:
        self.dismiss(ColumnChoice(None, None))

    def action_cancel(self) -> None:
        self.dismiss(None)
