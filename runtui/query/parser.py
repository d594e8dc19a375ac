"""Tokens to a checked tree (`nodes`), by recursive descent.

Precedence, loosest first: ``or``, then ``and`` (also written as a space),
then ``not``, then parentheses and conditions. Every mistake is a
`QueryError` pointing at the offending token (or the end of the text) and
saying what was expected there. Nesting and the number of conditions are
bounded so hostile input yields an error, never a RecursionError or an SQL
statement SQLite refuses.
"""

from __future__ import annotations

from runtui.errors import QueryError
from runtui.query import nodes, values
from runtui.query.fields import (
    NAMESPACES,
    RUN_AMOUNTS,
    RUN_FIELDS,
    RUN_MOMENTS,
    Field,
    resolve,
)
from runtui.query.lexer import Token, tokenize
from runtui.store.records import STATUSES

MAX_DEPTH = 16  # parentheses and `not`s; SQLite's parser stack overflows at about 20 levels
MAX_CONDITIONS = 100  # SQLite refuses expressions deeper than 1000
_ORDERING = frozenset({"<", "<=", ">", ">="})
_TEXT_MATCH = frozenset({"~", "!~"})


def parse(query: str) -> nodes.Node | None:
    """The tree of ``query``, or None when it is blank (no filter: every run)."""
    return _Parser(query).parse()


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.i = 0
        self.depth = 0
        self.conditions = 0

    # -- helpers -------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, message: str, token: Token | None = None) -> QueryError:
        return QueryError(message, self.query, (token or self.token).pos)

    def expected_filter(self, after: str) -> QueryError:
        token = self.token
        if token.kind == "end":
            return self.error(f"expected a filter {after}")
        if token.kind == "op":
            return self.error(f"expected a field name before '{token.text}'")
        if token.kind == ")":
            return self.error(f"expected a filter {after}, found ')'")
        return self.error(f"expected a filter before '{token.text}'")

    def nest(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"too deeply nested (more than {MAX_DEPTH} levels)", token)

    # -- grammar -------------------------------------------------------------

    def parse(self) -> nodes.Node | None:
        if self.token.kind == "end":
            return None
        tree = self.or_expr("at the start")
        token = self.token
        if token.kind == ")":
            raise self.error("unexpected ')' with no '(' to close")
        if token.kind != "end":
            raise self.expected_filter("here")
        return tree

    def or_expr(self, after: str) -> nodes.Node:
        start = self.token.pos
        items = [self.and_expr(after)]
        while self.token.keyword() == "or":
            self.advance()
            items.append(self.and_expr("after 'or'"))
        return items[0] if len(items) == 1 else nodes.Or(tuple(items), start)

    def and_expr(self, after: str) -> nodes.Node:
        start = self.token.pos
        items = [self.unary(after)]
        while True:
            token = self.token
            keyword = token.keyword()
            if keyword == "and":
                self.advance()
                items.append(self.unary("after 'and'"))
            elif token.kind == "(" or (token.kind == "word" and keyword != "or"):
                items.append(self.unary(after))
            else:
                break
        return items[0] if len(items) == 1 else nodes.And(tuple(items), start)

    def unary(self, after: str) -> nodes.Node:
        token = self.token
        if token.keyword() == "not":
            self.nest(token)
            self.advance()
            item = self.unary("after 'not'")
            self.depth -= 1
            return nodes.Not(item, token.pos)
        return self.primary(after)

    def primary(self, after: str) -> nodes.Node:
        token = self.token
        if token.kind == "(":
            self.nest(token)
            self.advance()
            if self.token.kind == ")":
                raise self.error("expected a filter inside '(' ')'")
            inner = self.or_expr("after '('")
            if self.token.kind != ")":
                if self.token.kind == "end":
                    raise self.error("expected ')' to close '('")
                raise self.expected_filter("here")
            self.advance()
            self.depth -= 1
            return inner
        if token.kind != "word" or token.keyword() in ("and", "or"):
            raise self.expected_filter(after)
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise self.error(f"too many conditions (at most {MAX_CONDITIONS})")
        return self.condition()

    # -- conditions ------------------------------------------------------------

    def condition(self) -> nodes.Node:
        word = self.advance()
        op = self.token
        if op.kind != "op":
            return self.name_match(word)
        self.advance()
        value = self.token
        if op.text == ":":
            return self.presence(word, op, value)
        if value.kind != "word" or value.keyword():
            raise self.error(f"expected a value after '{op.text}'")  # quote "or" to mean the word
        self.advance()
        field = resolve(word.pieces)
        literal = nodes.Value(
            value.text, None if value.quoted else values.number(value.text), value.pos
        )
        if field.kind == "key" and not field.name:
            raise self.error(f"expected a field name before '{op.text}'", word)
        if field.kind != "run" and not field.name:
            raise self.error(f"expected a {field.kind} name after '{word.text}'", word)
        if literal.is_nan and op.text not in ("=", "!="):
            raise self.error(f"NaN can only be compared with = or !=, not '{op.text}'", op)
        return self.comparison(word, field, op, literal)

    def name_match(self, word: Token) -> nodes.Node:
        field = resolve(word.pieces)
        if field.kind in ("param", "metric", "tag") and not field.name:  # 'metrics.' alone
            raise QueryError(
                f"expected a {field.kind} name after '{word.text}'", self.query, word.end
            )
        head, colon, _ = word.text.partition(":")
        if colon and not word.quoted and head.lower() in RUN_FIELDS:
            raise self.error(
                f"use {head}=value to compare a field ('{head}:' is not a filter; "
                f"':' is for tag:NAME, param:NAME and metric:NAME)",
                word,
            )
        return nodes.NameMatch(word.text, word.pos)

    def presence(self, word: Token, op: Token, value: Token) -> nodes.Node:
        kind = NAMESPACES[word.text.lower()]
        if value.kind != "word" or not value.text or value.keyword():
            raise self.error(f"expected a {kind} name after '{word.text}:'")
        self.advance()
        return nodes.Has(kind, value.text, word.pos)

    def comparison(self, word: Token, field: Field, op: Token, value: nodes.Value) -> nodes.Node:
        opt = op.text
        if field.kind == "param":
            return nodes.Param(field.name, opt, value, word.pos)
        if field.kind == "tag":
            return nodes.Tag(field.name, opt, value, word.pos)
        if field.kind == "metric":
            self.check_metric(op, value)
            return nodes.Metric(field.name, field.agg, opt, value, word.pos)
        if field.kind == "key":
            return nodes.BareKey(field.name, field.metric_name, field.agg, opt, value, word.pos)
        if field.name == "status":
            return self.status(word, op, value)
        if field.name in RUN_MOMENTS or field.name in RUN_AMOUNTS:
            return self.run_time(word, field.name, op, value)
        return nodes.RunText(field.name, opt, value, word.pos)

    def check_metric(self, op: Token, value: nodes.Value) -> None:
        if op.text in _TEXT_MATCH:
            raise self.error(
                f"metrics are numbers: compare them with =, !=, <, <=, > or >=, not '{op.text}'",
                op,
            )
        if value.number is None:
            raise QueryError(
                f"expected a number after '{op.text}' (metrics are numbers)", self.query, value.pos
            )

    def status(self, word: Token, op: Token, value: nodes.Value) -> nodes.Node:
        if op.text not in ("=", "!="):
            raise self.error(f"compare status with = or !=, not '{op.text}'", op)
        status = value.text.lower()
        if status not in STATUSES:
            raise QueryError(
                f"unknown status {value.text!r}; expected one of {', '.join(STATUSES)}",
                self.query,
                value.pos,
            )
        return nodes.Status(op.text, status, word.pos)

    def run_time(self, word: Token, field: str, op: Token, value: nodes.Value) -> nodes.Node:
        if op.text not in _ORDERING:
            raise self.error(
                f"compare {field} with <, <=, > or >= (for example {field}>2d), not '{op.text}'",
                op,
            )
        text = value.text
        if field in RUN_MOMENTS:
            amount = values.seconds(text[1:] if text.startswith("-") else text)
            if amount is not None and not _plain_number(text):
                when: nodes.Seconds | nodes.Moment = nodes.Seconds(amount, True, value.pos)
            elif (timestamp := values.moment(text)) is not None:
                when = nodes.Moment(timestamp, value.pos)
            else:
                raise QueryError(
                    f"expected a time such as 2d, 3h, 30m or a date such as 2024-05-01 "
                    f"after '{op.text}'",
                    self.query,
                    value.pos,
                )
            return nodes.RunTime(field, op.text, when, word.pos)
        amount = values.seconds(text)
        if amount is None:
            raise QueryError(
                f"expected an amount of time such as 90s, 5m, 1h or 2d after '{op.text}'",
                self.query,
                value.pos,
            )
        return nodes.RunTime(field, op.text, nodes.Seconds(amount, False, value.pos), word.pos)


def _plain_number(text: str) -> bool:
    """A unitless number: an amount of seconds for ``duration``, but not a time for ``started``."""
    return values.number(text.lstrip("-")) is not None
