"""Small formatting helpers shared by the TUI and the CLI: sizes and paths for people."""

from __future__ import annotations

from pathlib import Path


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
