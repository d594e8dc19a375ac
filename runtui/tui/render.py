"""Cell builders for the TUI: everything returns `rich.text.Text`, never a markup string.

User text (run names, params, tags, metric names) becomes `Text` built from a
plain string, so ``[bold]`` or ``[@click=…]`` shows as those characters and
escape sequences are stripped first (`services.textsafe.plain`). Statuses are
a glyph *and* a word, readable without colour. Functions that depend on the
time take ``now`` explicitly, so a test can fix the clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from runtui.services.textsafe import plain
from runtui.services.units import DASH

BARS = "▁▂▃▄▅▆▇█"

STATUS_GLYPHS: Mapping[str, str] = {
    "running": "▶",
    "completed": "✓",
    "failed": "✗",
    "canceled": "■",
    "crashed": "‼",
}


def safe(value: Any, style: str = "") -> Text:
    """Any user value as literal text: no markup, no escape sequences, one line."""
    text = value if isinstance(value, str) else format_value(value)
    return Text(plain(text).replace("\n", " ").replace("\t", " "), style=style, no_wrap=True)


def display_path(path: Path) -> str:
    """A path as a person would type it: ``~/…`` under the home folder."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def format_number(value: float | int | None) -> str:
    """Numbers as a person reads them: ``{:.4g}``, NaN and ±inf spelled out."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"


def format_value(value: Any) -> str:
    """A param value for a cell: numbers via `format_number`, containers compactly."""
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def full_value(value: Any) -> str:
    """A param value exactly (the compare screen's detail line): floats in their
    shortest exact form, so two that differ never read the same; containers as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    return format_value(value)


def status_text(status: str, styles: Mapping[str, str] | None = None) -> Text:
    """``✓ completed``: a glyph and the word, coloured by ``styles[status]`` when given."""
    glyph = STATUS_GLYPHS.get(status, "?")
    style = (styles or {}).get(status, "")
    return Text(f"{glyph} {plain(status)}", style=style, no_wrap=True)


def relative_time(then: float | None, now: float) -> str:
    """``just now``, ``5m ago``, ``3h ago``, ``2d ago``, ``5w ago``, ``1y ago``."""
    if then is None:
        return DASH
    delta = now - then
    if delta < 0:
        return "in future"
    if delta < 10:
        return "just now"
    for unit, size in (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600)):
        if delta >= size * (2 if unit in "yw" else 1):
            return f"{int(delta // size)}{unit} ago"
    if delta >= 60:
        return f"{int(delta // 60)}m ago"
    return f"{int(delta)}s ago"


def duration_of(started_at: float, ended_at: float | None, now: float) -> float:
    """Seconds a run lasted, or has lasted so far when it has not ended."""
    end = ended_at if ended_at is not None else now
    return max(0.0, end - started_at)


def spark_text(values: Iterable[float | None], width: int = 12, style: str = "") -> Text:
    """A one-line sparkline of ``values`` squeezed or stretched to ``width`` cells.

    NaN, ±inf and None are gaps (a space); an empty or all-gap series is a dim
    dash line. Series longer than ``width`` are averaged into buckets.
    """
    if width <= 0:
        return Text("")
    data = [v if v is not None and math.isfinite(v) else None for v in values]
    finite = [v for v in data if v is not None]
    if not finite:
        return Text(DASH * width, style="dim", no_wrap=True)
    cells: list[float | None]
    n = len(data)
    if n > width:
        cells = []
        for i in range(width):
            bucket = [v for v in data[i * n // width : (i + 1) * n // width] if v is not None]
            cells.append(math.fsum(bucket) / len(bucket) if bucket else None)
    else:
        cells = data
    lo, hi = min(finite), max(finite)
    span = hi - lo
    chars = []
    for v in cells:
        if v is None:
            chars.append(" ")
        elif span == 0:
            chars.append(BARS[3])
        else:
            chars.append(BARS[min(7, int((v - lo) / span * 8))])
    return Text("".join(chars), style=style, no_wrap=True)


def cell_segments(text: Text, width: int, justify: str, console: Console) -> list[Segment]:
    """``text`` fitted to ``width`` cells as segments; one-style text skips Rich's renderer."""
    plain = text.plain
    if "\n" in plain:
        return list(fit(text, width, justify).render(console))
    length = cell_len(plain)
    if text.spans:  # already the width (a metric cell): no copy, cut or pad
        return list((text if length == width else fit(text, width, justify)).render(console))
    if length > width:
        return list(fit(text, width, justify).render(console))
    pad = width - length
    if justify == "right":
        plain = " " * pad + plain
    elif justify == "center":
        plain = " " * (pad // 2) + plain + " " * (pad - pad // 2)
    else:
        plain = plain + " " * pad
    style = text.style
    return [Segment(plain, console.get_style(style) if isinstance(style, str) else style)]


def fit(text: Text, width: int, justify: str = "left") -> Text:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    text = text.copy()
    if text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    text.align(justify, width)  # type: ignore[arg-type]
    return text
