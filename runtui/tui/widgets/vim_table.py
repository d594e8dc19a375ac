"""A DataTable that moves as the rest of the UI does: ``j``/``k`` and ``g``/``G`` too."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class VimDataTable(DataTable[Text]):
    """A DataTable that also moves with ``j``/``k`` and jumps with ``g``/``G``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "First", show=False),
        Binding("G", "scroll_bottom", "Last", show=False),
    ]
