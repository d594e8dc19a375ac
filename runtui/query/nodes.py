"""The parsed form of a filter: small frozen dataclasses the compiler walks.

Everything a user can get wrong is checked while building these (see
`parser`), so a tree that exists always compiles. Every node keeps the
position of the text it came from, for error display.
"""

from __future__ import annotations

from dataclasses import dataclass

Op = str  # one of = != < <= > >= ~ !~ (the lexer yields no other)


@dataclass(frozen=True)
class Value:
    """A literal as typed: ``number`` is set when it was an unquoted number (or true/false)."""

    text: str
    number: int | float | None
    pos: int

    @property
    def is_nan(self) -> bool:
        return self.number is not None and self.number != self.number


@dataclass(frozen=True)
class Seconds:
    """An amount of time (``1h30m``), or with ``ago`` a moment that long before now."""

    seconds: float
    ago: bool
    pos: int


@dataclass(frozen=True)
class Moment:
    """An absolute time (``2024-05-01``) as a unix timestamp."""

    timestamp: float
    pos: int


@dataclass(frozen=True)
class RunText:
    """A text field of the run: name, experiment, host, user, branch or commit."""

    field: str
    op: Op
    value: Value
    pos: int


@dataclass(frozen=True)
class Status:
    op: Op  # = or !=
    status: str
    pos: int


@dataclass(frozen=True)
class RunTime:
    """``started``/``ended`` against a moment, or ``duration``/``age`` against an amount."""

    field: str
    op: Op
    value: Seconds | Moment
    pos: int


@dataclass(frozen=True)
class Param:
    key: str
    op: Op
    value: Value
    pos: int


@dataclass(frozen=True)
class Metric:
    """A metric's ``last``, ``min``, ``max`` or ``count`` against a number."""

    name: str
    agg: str
    op: Op
    value: Value
    pos: int


@dataclass(frozen=True)
class Tag:
    key: str
    op: Op
    value: Value
    pos: int


@dataclass(frozen=True)
class BareKey:
    """``lr>=1e-4``: the param ``key`` if the run has it, else the metric (``name``, ``agg``)."""

    key: str
    metric_name: str
    agg: str
    op: Op
    value: Value
    pos: int


@dataclass(frozen=True)
class Has:
    """``tag:NAME``, ``param:NAME``, ``metric:NAME``: the run has it, whatever its value."""

    kind: str  # tag, param or metric
    name: str
    pos: int


@dataclass(frozen=True)
class NameMatch:
    """A bare word: the run name contains it (case-insensitive)."""

    text: str
    pos: int


@dataclass(frozen=True)
class Not:
    item: Node
    pos: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]
    pos: int


Condition = RunText | Status | RunTime | Param | Metric | Tag | BareKey | Has | NameMatch
Node = Condition | Not | And | Or
