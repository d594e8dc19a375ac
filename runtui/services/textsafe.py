"""Making user text safe to show: no terminal escape sequences, no control characters.

Run names, params and captured log lines are data. They may contain escape
sequences (colours, cursor moves, window-title changes) or stray control
bytes; none of that may reach the terminal raw. `plain` removes sequences
and replaces other control characters with U+FFFD, keeping tabs.
"""

from __future__ import annotations

import re

_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI (colours, cursor moves, clears)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (window title, hyperlinks)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def fold_redraws(line: str) -> str:
    """What a terminal would show for a line with ``\\r`` redraws (progress bars): the last one."""
    line = line.rstrip("\r")
    if "\r" in line:
        line = line.rsplit("\r", 1)[-1]
    return line


def plain(raw: str) -> str:
    """``raw`` without escape sequences; other control characters become U+FFFD."""
    if "\x1b" in raw or "\x9b" in raw:
        raw = _SEQUENCE.sub("", raw)
    return _CONTROL.sub("\ufffd", raw) if _CONTROL.search(raw) else raw


def display_line(raw: str) -> str:
    """A captured log line as it should be shown: redraws folded, nothing unsafe left."""
    return plain(fold_redraws(raw)).expandtabs(8)
