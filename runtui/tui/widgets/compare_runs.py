"""How the compare screen names its runs: a letter and a colour each, the same in every tab.

Letters make every table, the chart and its legend readable without
colour; colours are the 16-colour terminal palette entries that plotext
draws with, so a curve and its legend entry match in any theme.
"""

from __future__ import annotations

from rich.text import Text

from runtui.store.records import RunRecord
from runtui.tui import render

MAX_RUNS = 8
LETTERS = "ABCDEFGH"
# (plotext colour name, its 16-colour index): bright colours first, far apart in hue
COLORS: tuple[tuple[str, int], ...] = (
    ("cyan+", 14),
    ("orange+", 11),
    ("magenta+", 13),
    ("green+", 10),
    ("red+", 9),
    ("blue+", 12),
    ("white", 15),
    ("gray+", 7),
)
COLOR_WORDS = ("cyan", "yellow", "magenta", "green", "red", "blue", "white", "grey")


def letter(index: int) -> str:
    return LETTERS[index]


def plot_color(index: int) -> str:
    return COLORS[index][0]


def style(index: int) -> str:
    """The rich style of run ``index``'s letter and curve."""
    return f"bold color({COLORS[index][1]})"


def heading(index: int, record: RunRecord, width: int | None = None) -> Text:
    """``A resnet-lr-0.1``: the letter in the run's colour, then its name (user text)."""
    text = Text()
    text.append(letter(index), style=style(index))
    text.append(" ")
    text.append_text(render.safe(record.name))
    if width is not None:
        text = render.fit(text, width)
    return text
