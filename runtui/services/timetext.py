"""Times as text: ISO 8601 UTC to the millisecond, made once per distinct minute.

Exports write millions of timestamps; ``strftime`` on each costs microseconds,
so a time is split into its minute (text made once per distinct minute,
`MinuteTexts`) and its millisecond within the minute (at most 60,000 texts,
`SecondTexts`), and the two texts are joined.
"""

from __future__ import annotations

import math
import time


def epoch_ms(ts: float) -> int:
    """Unix seconds → milliseconds since the epoch, rounded to the nearest."""
    return math.floor(ts * 1000 + 0.5)


def iso_utc(ts: float | None) -> str | None:
    """``2024-05-01T12:00:00.123Z``: rounded to the millisecond, like the metrics export."""
    if ts is None:
        return None
    seconds, ms = divmod(epoch_ms(ts), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


class MinuteTexts(dict[int, str]):
    """Minute since the epoch → ``2024-05-01T12:34:``, made the first time it is asked for."""

    def __missing__(self, minute: int) -> str:
        text = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))
        self[minute] = text
        return text


class SecondTexts(dict[int, str]):
    """Millisecond within a minute → ``05.123Z`` (at most 60,000 of them)."""

    def __missing__(self, ms: int) -> str:
        second, milli = divmod(ms, 1000)
        text = f"{second:02d}.{milli:03d}Z"
        self[ms] = text
        return text
