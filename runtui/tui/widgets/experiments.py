"""The experiments list beside the runs table: "all" first, then each one, with run counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from runtui.store.records import Experiment
from runtui.tui import render


class ExperimentList(OptionList):
    """Moving the highlight switches the runs table to that experiment at once."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "first", "First", show=False),
        Binding("G", "last", "Last", show=False),
    ]

    class Chosen(Message):
        """An experiment (None: all of them) was highlighted."""

        def __init__(self, experiment: str | None) -> None:
            super().__init__()
            self.experiment = experiment

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._names: list[str | None] = [None]

    def show_experiments(self, experiments: Sequence[Experiment], current: str | None) -> None:
        """Fill the list, keeping the highlight on ``current``."""
        total = sum(e.run_count for e in experiments)
        width = max([len(str(total)), *(len(str(e.run_count)) for e in experiments)])
        self._names = [None, *(e.name for e in experiments)]
        options = [Option(self._prompt(Text("all", style="italic"), total, width))]
        options += [
            Option(self._prompt(render.safe(e.name), e.run_count, width)) for e in experiments
        ]
        self.set_options(options)
        self.highlighted = self._names.index(current) if current in self._names else 0

    @staticmethod
    def _prompt(name: Text, count: int, width: int) -> Text:
        return Text.assemble((f"{count:>{width}} ", "dim"), name)

    def name_at(self, index: int | None) -> str | None:
        if index is None or not 0 <= index < len(self._names):
            return None
        return self._names[index]

    def select_name(self, experiment: str | None) -> None:
        if experiment in self._names:
            self.highlighted = self._names.index(experiment)

    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.post_message(self.Chosen(self.name_at(event.option_index)))
