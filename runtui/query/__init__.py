"""The filter language shared by ``Store.runs(filter=...)``, the TUI filter bar and ``--filter``.

A filter is conditions separated by spaces (all must hold), with ``or``,
``not`` and parentheses; precedence is ``not`` > ``and`` > ``or``, and
``and`` may be written out. Keywords are case-insensitive.

Conditions:

* ``bert`` — a bare word: the run name contains it (case-insensitive).
  ``"two words"`` quoted; quote a word that is a keyword (``"or"``).
* ``name~bert`` / ``name!~bert`` — contains / does not contain,
  case-insensitive (for ASCII letters; other characters must match exactly).
  ``name=x`` is an exact, case-sensitive match. ``~`` works on every text
  field, params and tags.
* ``status=running`` / ``status!=failed`` — one of the known statuses
  (anything else is an error listing them).
* ``experiment=finetune`` (or ``exp``), ``host``, ``user``, ``branch``,
  ``commit`` — text fields of the run.
* ``params.optimizer=adam``, ``tags.team=nlp`` — one param or tag.
* ``metrics.val_loss<0.3`` — the metric's last value; ``.min``, ``.max``,
  ``.last`` and ``.count`` choose another summary. Metrics compare only with
  numbers; ``metrics.loss=nan`` finds a NaN last value.
* ``lr>=1e-4`` — a bare key: the param ``lr`` if the run has it, else the
  metric ``lr`` (``loss.min<0.2`` works too).
* ``tag:baseline``, ``param:seed``, ``metric:val_loss`` — the run has it,
  whatever the value.
* ``started>2d`` — started within the last 2 days: ``2d`` names the moment
  2 days ago and ``>`` means later than it (``started<2d``: more than 2 days
  ago). Also ``started>=2024-05-01`` (local time), and ``ended`` likewise.
  ``age<2d`` says the same as ``started>2d`` for those who think in ages.
* ``duration>1h`` — run time (a running run counts until now). Units ``s``,
  ``m``, ``h``, ``d``, ``w``, combinable (``1h30m``); a plain number is seconds.

Operators: ``= != < <= > >= ~ !~`` (``==`` is ``=``). Numbers compare as
numbers when both sides are numbers; a param stored as text compares as
text (``params.x=0.1`` matches the text ``"0.1"``, ``params.x>0.05`` does
not). A quoted value is always text. ``true``/``false`` are 1/0, which is
how bool params are stored. ``key!=v`` matches runs that have ``key`` with
another value; ``not key=v`` also matches runs without ``key``. Run fields
win over params of the same name: use ``params.name`` for a param ``name``.
"""

from __future__ import annotations

from typing import Any

from runtui.errors import QueryError
from runtui.query.compiler import compile_tree
from runtui.query.nodes import Node
from runtui.query.parser import parse


def compile_filter(text: str, *, now: float | None = None) -> tuple[str, list[Any]]:
    """An SQL boolean expression over ``runs r JOIN experiments e``, and its parameters.

    ``now`` (unix time, default the current time) anchors ``started>2d`` and
    the duration of running runs. Raises `QueryError` for a bad filter.
    """
    return compile_tree(parse(text), now)


__all__ = ["Node", "QueryError", "compile_filter", "parse"]
