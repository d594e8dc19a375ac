"""Splitting a filter into tokens, each with its 0-based position.

A word is lexed the way a shell does it: a run of characters up to a space,
a parenthesis or an operator, in which quoted sections (``"..."`` or
``'...'``, with backslash escapes) may appear and may contain anything. So
``"with spaces"``, ``params."batch size"`` and ``adam`` are each one word.
The parser still needs to know which parts were quoted (a quoted dot does
not separate a namespace, a quoted ``or`` is not a keyword, a quoted ``1e-4``
is text), so a word keeps its pieces.

``:`` is an operator only right after ``tag``, ``param`` or ``metric`` (and
their plurals), so dates and times such as ``2024-05-01T12:00`` stay whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtui.errors import QueryError

MAX_LENGTH = 10_000

OPERATORS = ("!=", "!~", "<=", ">=", "==", "=", "<", ">", "~", ":")
PRESENCE_PREFIXES = frozenset({"tag", "tags", "param", "params", "metric", "metrics"})
_OPERATOR_START = frozenset("=!<>~")
_QUOTES = frozenset("\"'")
_BREAK = frozenset("()") | _OPERATOR_START
_SPACE = re.compile(r"\s+")
_PLAIN = re.compile(r"[^\s()=!<>~\"':]+")


@dataclass(frozen=True)
class Piece:
    """Part of a word: its text (quotes and escapes removed) and whether it was quoted."""

    text: str
    quoted: bool


@dataclass(frozen=True)
class Token:
    """``kind`` is ``word``, ``op``, ``(``, ``)`` or ``end``; ``pos``/``end`` index the query."""

    kind: str
    text: str
    pos: int
    end: int
    pieces: tuple[Piece, ...] = ()

    @property
    def quoted(self) -> bool:
        return any(piece.quoted for piece in self.pieces)

    def keyword(self) -> str | None:
        """``and``/``or``/``not`` (any case) when this is an unquoted keyword word."""
        if self.kind == "word" and not self.quoted and self.text.lower() in ("and", "or", "not"):
            return self.text.lower()
        return None


def tokenize(query: str) -> list[Token]:
    """Tokens of ``query``, ending with an ``end`` token at ``len(query)``."""
    if len(query) > MAX_LENGTH:
        raise QueryError(f"the filter is too long (at most {MAX_LENGTH} characters)", query, 0)
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as bad:  # undecodable bytes from a command line (surrogateescape)
        raise QueryError("the filter is not valid text", query, bad.start) from None
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            space = _SPACE.match(query, i)
            i = space.end() if space else i + 1
        elif char in "()":
            tokens.append(Token(char, char, i, i + 1))
            i += 1
        elif char in _OPERATOR_START:
            op = next((o for o in OPERATORS if query.startswith(o, i)), None)
            if op is None:
                message = "'!' must be followed by '=' or '~' (use 'not' to negate)"
                raise QueryError(message, query, i)
            tokens.append(Token("op", "=" if op == "==" else op, i, i + len(op)))
            i += len(op)
        else:
            word, i = _word(query, i)
            tokens.append(word)
            if i < n and query[i] == ":":
                tokens.append(Token("op", ":", i, i + 1))
                i += 1
    tokens.append(Token("end", "", n, n))
    return tokens


def _word(query: str, start: int) -> tuple[Token, int]:
    pieces: list[Piece] = []
    plain: list[str] = []
    i, n = start, len(query)
    while i < n:
        char = query[i]
        if char.isspace() or char in _BREAK:
            break
        if char == ":" and "".join(plain).lower() in PRESENCE_PREFIXES and not pieces:
            break
        if char in _QUOTES:
            if plain:
                pieces.append(Piece("".join(plain), False))
                plain = []
            text, i = _quoted(query, i)
            pieces.append(Piece(text, True))
            continue
        chunk = _PLAIN.match(query, i)
        end = chunk.end() if chunk else i + 1  # no chunk: a ':' that belongs to the word
        plain.append(query[i:end])
        i = end
    if plain:
        pieces.append(Piece("".join(plain), False))
    text = "".join(piece.text for piece in pieces)
    return Token("word", text, start, i, tuple(pieces)), i


def _quoted(query: str, start: int) -> tuple[str, int]:
    """The text of the quoted section opening at ``start`` and the index after it."""
    quote = query[start]
    out: list[str] = []
    i, n = start + 1, len(query)
    while i < n:
        char = query[i]
        if char == "\\" and i + 1 < n:
            out.append(query[i + 1])
            i += 2
        elif char == quote:
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise QueryError(f"unterminated string: missing closing {quote}", query, start)
