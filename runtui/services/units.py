"""Small formatting helpers shared by the TUI and the CLI: sizes, durations and paths
for people."""

from __future__ import annotations

import math
from pathlib import Path

DASH = "–"  # what a missing value shows as


def human_size(size: int) -> str:
    """``512 B``, ``3.4 KB``, ``1.0 GB`` (powers of 1024)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def short_path(path: Path) -> str:
    """``path`` with the home folder written as ``~`` (shorter, and the same on every machine)."""
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)


def format_duration(seconds: float | None) -> str:
    """``45s``, ``12m 05s``, ``3h 07m``, ``2d 04h``."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h:02d}h"
