"""`?` help: the keys that work right now, read from the live bindings, plus the filter language.

Built from `Screen.active_bindings` of the screen underneath at the moment
`?` is pressed, so it lists exactly what the focused widget, its screen and
the app accept; nothing here can drift from the real keymap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

FILTER_EXAMPLES = (
    ("status=running", "status is running (also completed, failed, canceled, crashed)"),
    ("lr>=1e-4", "a bare key looks in params, then metrics"),
    ("params.optimizer=adam", "a param"),
    ("metrics.val_loss<0.3", "a metric's last value (.min / .max for extremes)"),
    ("tags.team=nlp   tag:baseline", "a tag's value / a tag is present"),
    ("name~bert   bert", "name contains; a bare word matches the name"),
    ("experiment=finetune", "an experiment"),
    ("started>2d   duration>1h", "started more than 2 days ago / ran longer than an hour"),
    ("a b   a or b   not a   (a or b) c", "space means and; or, not, parentheses"),
)

SECTION_TITLES = {
    "RunsTable": "Runs table",
    "ExperimentList": "Experiments",
    "MainScreen": "Main screen",
    "FilterBar": "Filter bar",
}


def describe_bindings(
    bindings: Mapping[str, ActiveBinding], key_display: Mapping[str, str]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Sections of (keys, description), one per widget that defines bindings, app last."""
    sections: dict[str, dict[tuple[str, str], list[str]]] = {}
    for key, active in bindings.items():
        binding = active.binding
        if binding.system or not binding.description:
            continue
        node = type(active.node).__name__
        title = "App" if active.node is active.node.app else SECTION_TITLES.get(node, node)
        entry = sections.setdefault(title, {}).setdefault((binding.action, binding.description), [])
        shown = key_display.get(key, key)
        if shown not in entry:
            entry.append(shown)
    ordered = sorted(sections.items(), key=lambda item: item[0] == "App")
    return [
        (title, [(" ".join(keys), description) for (_, description), keys in entries.items()])
        for title, entries in ordered
    ]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close help", id="help.close"),
        Binding("j,down", "scroll('down')", "Down", show=False),
        Binding("k,up", "scroll('up')", "Up", show=False),
    ]

    def __init__(self, bindings: Mapping[str, ActiveBinding]) -> None:
        super().__init__()
        self._listed = dict(bindings)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self._body(), id="help-body")

    def _body(self) -> Text:
        display = {
            key: self.app.get_key_display(Binding(key, active.binding.action))
            for key, active in self._listed.items()
        }
        body = Text()
        for title, rows in describe_bindings(self._listed, display):
            body.append(f"{title}\n", style="bold underline")
            width = max(len(keys) for keys, _ in rows)
            for keys, description in rows:
                body.append(f"  {keys:<{width}}  ", style="bold")
                body.append(f"{description}\n")
            body.append("\n")
        body.append("Filter language (press /)\n", style="bold underline")
        width = max(len(example) for example, _ in FILTER_EXAMPLES)
        for example, meaning in FILTER_EXAMPLES:
            body.append(f"  {example:<{width}}  ", style="bold")
            body.append(f"{meaning}\n")
        body.append("\nescape, q or ? closes this help.", style="dim")
        return body

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, direction: str) -> None:
        scroller = self.query_one(VerticalScroll)
        if direction == "down":
            scroller.scroll_down()
        else:
            scroller.scroll_up()
