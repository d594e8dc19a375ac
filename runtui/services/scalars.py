"""Metrics from printed lines, for scripts that never import runtui (``runtui run --scalars``).

The default patterns, on each line of output (``\\r`` redraws count as lines):

* ``name=value`` and ``name: value`` (spaces around ``=``/``:`` allowed):
  ``acc=0.91``, ``loss: 0.53``, ``batch= 2000``;
* ``name value``, but only on a line that also has one of the forms above,
  so ordinary prose ("Epoch 1 of 10") is left alone while the seed's
  ``epoch=1, batch= 2000: loss 2.19`` gives epoch 1, batch 2000, loss 2.19.

A name starts with a letter or ``_`` and may contain letters, digits,
``_ . / -`` (``val/loss``, ``train.acc``). A value is a decimal or
scientific number, ``nan`` or ``inf``, ending at a space, ``,;|)]}%`` or
the end of the line (so ``12:30:45`` or ``v1.2.3`` give nothing). Escape
sequences (colours) are removed first; names are kept as printed.

`ScalarParser(regex)` overrides the patterns: a regex with groups named
``name`` and ``value`` yields one metric per match; a regex with other named
groups yields one metric per group (``(?P<loss>[\\d.]+)`` gives ``loss``).
"""

from __future__ import annotations

import re

from runtui.errors import RuntuiError
from runtui.services.textsafe import plain

_NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf(?:inity)?)"
_END = r"(?=$|[\s,;|)\]}%]|\.(?!\d)|:(?!\d))"
_NAME = r"[A-Za-z_][\w./-]*"
_SEPARATED = re.compile(rf"(?<![\w./-])(?P<name>{_NAME})\s*[=:]\s*(?P<value>{_NUMBER}){_END}", re.I)
_SPACED = re.compile(
    rf"(?<![\w./-])(?P<name>{_NAME})(?:\s*[=:]\s*|\s+)(?P<value>{_NUMBER}){_END}", re.I
)


class ScalarParser:
    """Turns a line of output into ``{name: value}``."""

    def __init__(self, regex: str | None = None) -> None:
        self.custom: re.Pattern[str] | None = None
        self.groups: list[str] = []
        if regex is not None:
            try:
                self.custom = re.compile(regex)
            except re.error as exc:
                raise RuntuiError(f"--scalars-regex {regex!r}: {exc}") from None
            names = list(self.custom.groupindex)
            if not names:
                raise RuntuiError(
                    "--scalars-regex needs named groups: (?P<name>...) and (?P<value>...), "
                    "or one group per metric such as (?P<loss>[0-9.]+)"
                )
            self.groups = [] if {"name", "value"} <= set(names) else names

    def parse(self, line: str) -> dict[str, float]:
        """The metrics on one line (the last value wins when a name repeats)."""
        line = plain(line)
        if self.custom is not None:
            return self._custom(line)
        if not _SEPARATED.search(line):
            return {}
        found = {}
        for match in _SPACED.finditer(line):
            found[match["name"]] = float(match["value"])
        return found

    def _custom(self, line: str) -> dict[str, float]:
        assert self.custom is not None
        found: dict[str, float] = {}
        for match in self.custom.finditer(line):
            pairs = (
                [(g, match[g]) for g in self.groups]
                if self.groups
                else [(match["name"], match["value"])]
            )
            for name, text in pairs:
                if not name or text is None:
                    continue
                try:
                    found[name] = float(text)
                except ValueError:
                    continue
        return found
