"""TUI choices remembered per store, in ``<store>/ui.json``.

Kept beside the data they describe: the params and metrics shown as columns
only make sense for that store's runs. ``None`` means "automatic" (params
that vary, the most logged metrics). A missing, unreadable or malformed file
means defaults; a store folder that cannot be written keeps the choices for
the session only.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FILENAME = "ui.json"


@dataclass
class UiSettings:
    params: list[str] | None = None
    metrics: list[str] | None = None
    theme: str | None = None


def _names(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def load(store: Path) -> UiSettings:
    try:
        data = json.loads((store / FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return UiSettings()
    if not isinstance(data, dict):
        return UiSettings()
    theme = data.get("theme")
    return UiSettings(
        params=_names(data.get("params")),
        metrics=_names(data.get("metrics")),
        theme=theme if isinstance(theme, str) else None,
    )


def save(store: Path, settings: UiSettings) -> bool:
    """Write atomically; False if the store folder cannot be written."""
    path = store / FILENAME
    tmp = path.with_name(f".{FILENAME}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(asdict(settings), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        return False
    return True
