"""The Params & tags tab: one table, params first, then tags.

Keys and values are user data: every cell is a `rich.text.Text` built from
the plain string (via `render.safe`), never markup, so a key like
``[/]`` or ``[@click=…]`` shows as written. Nested values (lists, dicts
logged as params) are shown as compact JSON on one line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from runtui.tui.render import safe


def param_text(value: Any) -> Text:
    """A param value: numbers and strings as they are, containers as compact JSON."""
    if isinstance(value, (dict, list, tuple)):
        return safe(json.dumps(value, default=str, ensure_ascii=False))
    return safe(value)


class ParamsView(DataTable[Text]):
    """Params and tags of one run."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.add_column("", key="kind")
        self.add_column("key", key="key")
        self.add_column("value", key="value")

    def show(self, params: Mapping[str, Any], tags: Mapping[str, str]) -> None:
        """Replace the rows with these params and tags."""
        self.clear()
        for key in sorted(params):
            self.add_row(Text("param", style="dim"), safe(key), param_text(params[key]))
        for key in sorted(tags):
            self.add_row(Text("tag", style="dim"), safe(key), safe(tags[key]))
        if not params and not tags:
            self.add_row(Text(""), Text("no params or tags", style="dim"), Text(""))
