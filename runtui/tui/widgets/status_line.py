"""A one-line label for text that changes on every keystroke (the view summary).

`Static.update` asks for a new layout each time; this widget has a fixed
height of one line, so changing its text only repaints it.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine { height: 1; }
    """

    text: reactive[Text] = reactive(Text, layout=False)

    def render(self) -> Text:
        return self.text
