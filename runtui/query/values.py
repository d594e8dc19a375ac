"""Reading literals: numbers, amounts of time (``1h30m``) and dates.

Pure functions returning ``None`` when the text is not of that kind; the
parser turns ``None`` into an error that says what was expected.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
_SPECIAL = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "nan": math.nan}
_BOOLS = {"true": 1, "false": 0}
_INT64 = 2**63 - 1

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?|\.\d+)([smhdw])")
_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def number(text: str) -> int | float | None:
    """``3``, ``-1e-4``, ``inf``, ``nan``, and ``true``/``false`` as 1/0."""
    lowered = text.lower()
    if lowered in _SPECIAL:
        return _SPECIAL[lowered]
    if lowered in _BOOLS:
        return _BOOLS[lowered]
    if _INT.fullmatch(text):
        value = int(text)
        return value if abs(value) <= _INT64 else float(value)  # SQLite integers are 64-bit
    if _NUMBER.fullmatch(text):
        return float(text)
    return None


def seconds(text: str) -> float | None:
    """An amount of time: ``90`` (seconds), ``30s``, ``5m``, ``1.5h``, ``2d``, ``1w``, ``1h30m``."""
    lowered = text.lower()
    if _NUMBER.fullmatch(lowered) and not lowered.startswith(("-", "+")):
        value = float(lowered)
        return value if math.isfinite(value) else None
    pos, total = 0, 0.0
    for match in _AMOUNT.finditer(lowered):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * UNITS[match.group(2)]
        pos = match.end()
    return total if pos == len(lowered) and pos > 0 else None


def moment(text: str) -> float | None:
    """A date or date-time (``2024-05-01``, ``2024-05-01T12:00``), local time unless it says."""
    if not _DATE_START.match(text):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except (ValueError, OverflowError, OSError):
        return None
