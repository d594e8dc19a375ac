"""A checked tree (`nodes`) to an SQL boolean expression and its parameters.

The expression is evaluated with ``runs r JOIN experiments e`` in scope.
Every value, key, param, tag and metric name the user typed is a ``?``
parameter; the SQL text itself is built only from the constants in this
module, so its shape depends on the structure of the filter, never on its
words.

Index use (see store/schema.py): every param, tag and metric condition is
``+r.id IN (SELECT run_id … WHERE key …)``, a list SQLite builds once per
query (a range on ``params_by_key_kind`` / ``tags_by_key``; for metrics one pass
over the ``metric_summary`` rows, which have no index by key) and probes for
each run. The unary ``+`` keeps SQLite from fetching the matching runs by id
and sorting them: a page of the runs table then walks ``runs_by_started`` in
order and stops after one screenful. Measured on 10,000 runs
(benchmarks/bench_query.py): first 50 of 5,000 matches 2 ms with ``+``,
30-50 ms without; correlated ``EXISTS`` per run was 2-4x slower than the list
for metrics. ``started`` (and ``age``) compare ``r.started_at`` so
``runs_by_started`` serves them. ``~`` is ``LIKE`` with ``%`` around the
escaped text: SQLite folds ASCII letters for LIKE exactly as ``lower()``
does, and it was faster than ``instr(lower(…))``.

NULL never matches a comparison, so ``!=``, ``!~`` and ``not`` are written
as ``(<positive form>) IS NOT 1``, true for false and for NULL: a NaN metric
or a run that has not ended is "not equal", as a user would say.

SQLite's parser stack is small (SQLite 3.40 overflowed at about 20 nested
parenthesised groups), so the text is kept shallow: ``and``/``or`` chains are
flat, each ``not`` costs one parenthesis, and the parser bounds the nesting.
"""

from __future__ import annotations

import time
from typing import Any

from runtui.query import nodes

_NEGATED = {"!=": "=", "!~": "~"}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_RUN_TEXT_COLUMNS = {
    "name": "r.name",
    "experiment": "e.name",
    "host": "coalesce(r.host, '')",
    "user": "coalesce(r.user, '')",
    "branch": "coalesce(r.git_branch, '')",
    "commit": "coalesce(r.git_commit, '')",
}
_METRIC_COLUMNS = {"last": "s.last", "min": "s.min", "max": "s.max", "count": "s.count"}
_NUMERIC = "typeof({col}) IN ('integer', 'real')"
_PARAM_RUNS = "+r.id IN (SELECT p.run_id FROM params p WHERE p.key = ?{cond})"
_TAG_RUNS = "+r.id IN (SELECT t.run_id FROM tags t WHERE t.key = ?{cond})"
_METRIC_RUNS = (
    "+r.id IN (SELECT s.run_id FROM metric_summary s "
    "WHERE s.key_id = (SELECT k.id FROM metric_keys k WHERE k.name = ?){cond})"
)
_LIKE_ESCAPES = str.maketrans({"%": "\\%", "_": "\\_", "\\": "\\\\"})


def compile_tree(tree: nodes.Node | None, now: float | None = None) -> tuple[str, list[Any]]:
    """SQL and parameters for ``tree`` (None: ``1``, every run); ``now`` for relative times."""
    if tree is None:
        return "1", []
    compiler = _Compiler(time.time() if now is None else now)
    return compiler.node(tree), compiler.args


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards in ``text`` escaped (``ESCAPE '\\'``)."""
    return "%" + text.translate(_LIKE_ESCAPES) + "%"


class _Compiler:
    def __init__(self, now: float) -> None:
        self.now = now
        self.args: list[Any] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return "?"

    def node(self, node: nodes.Node) -> str:
        match node:
            case nodes.And(items):
                return self.join([self.node(item) for item in items], "AND")
            case nodes.Or(items):
                return self.join([self.node(item) for item in items], "OR")
            case nodes.Not(item):
                return f"({self.node(item)}) IS NOT 1"
            case nodes.NameMatch(text):
                return self.contains("r.name", text)
            case nodes.Status(op, status):
                return f"r.status {op} {self.arg(status)}"
            case nodes.RunText():
                return self.compare(_RUN_TEXT_COLUMNS[node.field], node.op, node.value, "text")
            case nodes.RunTime():
                return self.run_time(node)
            case nodes.Param(key, op, value):
                return self.param(key, op, value)
            case nodes.Tag(key, op, value):
                return self.keyed(_TAG_RUNS, key, "t.value", op, value, "text")
            case nodes.Metric(name, agg, op, value):
                return self.metric(name, agg, op, value)
            case nodes.BareKey():
                return self.bare_key(node)
            case nodes.Has(kind, name):
                return self.has(kind, name)
        raise AssertionError(f"unknown node {node!r}")

    def join(self, parts: list[str], word: str) -> str:
        """A flat chain: SQLite parses it without growing its parser stack."""
        return "(" + f" {word} ".join(parts) + ")"

    # -- values ----------------------------------------------------------------

    def contains(self, col: str, text: str) -> str:
        return f"{col} LIKE {self.arg(like_pattern(text))} ESCAPE '\\'"

    def compare(self, col: str, op: str, value: nodes.Value, kind: str) -> str:
        """``col op value``: kind ``text`` (text columns), ``param`` (mixed) or ``number``."""
        if op in _NEGATED:
            return f"({self.compare(col, _NEGATED[op], value, kind)}) IS NOT 1"
        if op == "~":
            return self.contains(col, value.text)
        number = value.number if kind != "text" else None
        if number is None:
            text = self.arg(value.text)
            if kind == "param" and op != "=":
                return f"(typeof({col}) = 'text' AND {col} {op} {text})"
            return f"{col} {op} {text}"
        if value.is_nan:
            return f"{col} IS NULL"
        if kind == "param" and op == "=":
            return f"{col} IN ({self.arg(number)}, {self.arg(value.text)})"
        if kind == "param":
            return f"({_NUMERIC.format(col=col)} AND {col} {op} {self.arg(number)})"
        return f"{col} {op} {self.arg(number)}"

    # -- runs, params, metrics, tags ---------------------------------------------

    def run_time(self, node: nodes.RunTime) -> str:
        value = node.value
        if node.field == "duration":
            now, op = self.arg(self.now), node.op
            return f"(coalesce(r.ended_at, {now}) - r.started_at) {op} {self.arg(value.seconds)}"
        if node.field == "age":  # age > x  <=>  started_at < now - x: served by runs_by_started
            assert isinstance(value, nodes.Seconds)
            return f"r.started_at {_FLIPPED[node.op]} {self.arg(self.now - value.seconds)}"
        when = value.timestamp if isinstance(value, nodes.Moment) else self.now - value.seconds
        column = "r.started_at" if node.field == "started" else "r.ended_at"
        return f"{column} {node.op} {self.arg(when)}"

    def keyed(
        self, template: str, key: str, col: str, op: str, value: nodes.Value, kind: str
    ) -> str:
        """``template`` (one ``?`` for the key, ``{cond}``) with ``col op value`` as cond."""
        self.arg(key)  # the key's ? comes first in the text, so its argument comes first
        cond = " AND " + self.compare(col, op, value, kind)
        if kind == "param" and value.is_nan and op == "=":
            cond += " AND p.kind = 'float'"  # NaN params are stored as NULL
        return template.format(cond=cond)

    def param(self, key: str, op: str, value: nodes.Value) -> str:
        return self.keyed(_PARAM_RUNS, key, "p.value", op, value, "param")

    def metric(self, name: str, agg: str, op: str, value: nodes.Value) -> str:
        return self.keyed(_METRIC_RUNS, name, _METRIC_COLUMNS[agg], op, value, "number")

    def bare_key(self, node: nodes.BareKey) -> str:
        """The param if the run has one by that key, else the metric.

        The metric's run list comes last in an ``AND`` that SQLite short-circuits,
        so it is never built when every run has the param (the usual case).
        """
        as_param = self.param(node.key, node.op, node.value)
        if node.value.number is None or node.op in ("~", "!~"):
            return as_param  # metrics are numbers: only a param can match
        no_param = (
            f"+r.id NOT IN (SELECT p.run_id FROM params p WHERE p.key = {self.arg(node.key)})"
        )
        as_metric = self.metric(node.metric_name, node.agg, node.op, node.value)
        return f"({as_param} OR ({no_param} AND {as_metric}))"

    def has(self, kind: str, name: str) -> str:
        self.arg(name)
        template = {"metric": _METRIC_RUNS, "tag": _TAG_RUNS, "param": _PARAM_RUNS}[kind]
        return template.format(cond="")
