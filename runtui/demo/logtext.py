"""Text a training script prints: progress bars with ``\\r`` redraws, and tracebacks.

A log is a stream of `LogEvent` (the training step at which it is printed,
and the text): a finished run writes them all, a live run writes those whose
step has been reached, a run about to crash stops half way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_BLOCKS = " ▏▎▍▌▋▊▉█"
BAR_WIDTH = 10


@dataclass(frozen=True)
class LogEvent:
    step: int
    text: str


def clock(seconds: float) -> str:
    """tqdm's time format: ``MM:SS``, or ``H:MM:SS`` past an hour."""
    seconds = int(max(0.0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def progress_bar(desc: str, n: int, total: int, seconds_per_it: float, postfix: str = "") -> str:
    """One tqdm frame, e.g. ``Epoch 1/3:  45%|████▌     | 562/1250 [01:02<01:16, 9.02it/s]``."""
    frac = min(1.0, n / total) if total else 1.0
    eighths = int(frac * BAR_WIDTH * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_BLOCKS[part] if full < BAR_WIDTH else "")
    bar = bar.ljust(BAR_WIDTH)
    elapsed = n * seconds_per_it
    remaining = (total - n) * seconds_per_it
    rate = f"{1 / seconds_per_it:.2f}it/s" if seconds_per_it < 1 else f"{seconds_per_it:.2f}s/it"
    tail = f", {postfix}" if postfix else ""
    head = f"{desc}: " if desc else ""
    return (
        f"{head}{frac * 100:3.0f}%|{bar}| {n}/{total} "
        f"[{clock(elapsed)}<{clock(remaining)}, {rate}{tail}]"
    )


def bar_events(
    desc: str,
    first_step: int,
    total: int,
    every: int,
    seconds_per_it: float,
    postfix: Sequence[str] | None = None,
) -> list[LogEvent]:
    """A progress bar over ``total`` iterations from ``first_step``: a ``\\r`` redraw every
    ``every`` iterations and a newline when it completes. ``postfix[i]`` decorates frame i."""
    events = []
    points = [*range(0, total, max(1, every)), total]
    for i, n in enumerate(points):
        extra = postfix[min(i, len(postfix) - 1)] if postfix else ""
        frame = "\r" + progress_bar(desc, n, total, seconds_per_it, extra)
        events.append(LogEvent(first_step + n, frame + ("\n" if n == total else "")))
    return events


def line_of(source: str, snippet: str) -> int:
    """The 1-based number of the first line of ``source`` containing ``snippet``."""
    for number, line in enumerate(source.splitlines(), 1):
        if snippet in line:
            return number
    raise ValueError(f"{snippet!r} is not in the source")


def traceback_text(
    path: str,
    source: str,
    frames: Sequence[tuple[str, str]],
    library_frames: Sequence[tuple[str, int, str, str]],
    exception: str,
) -> str:
    """A Python traceback through ``frames`` of ``source`` (function, code snippet), then
    ``library_frames`` (file, line, function, code), ending with ``exception``.

    Line numbers are looked up in ``source``, so the traceback matches the
    snapshot of the code that ran.
    """
    lines = ["Traceback (most recent call last):"]
    for function, snippet in frames:
        number = line_of(source, snippet)
        code = source.splitlines()[number - 1].strip()
        lines.append(f'  File "{path}", line {number}, in {function}')
        lines.append(f"    {code}")
    for file, number, function, code in library_frames:
        lines.append(f'  File "{file}", line {number}, in {function}')
        lines.append(f"    {code}")
    lines.append(exception)
    return "\n".join(lines)
