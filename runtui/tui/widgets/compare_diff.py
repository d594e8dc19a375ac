"""Rendering one file's diff as Rich text: unified or side by side, syntax-highlighted.

The code of each side of a change is highlighted as one block with the
lexer of the file's name (so a multi-line string stays a string), then
every line gets a tinted background when removed or added, and a ``-``/``+``
sign, so changes read without colour too. Diff text is user data: escape
sequences are stripped before anything is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.syntax import Syntax
from rich.text import Text

from runtui.services.compare import DiffLine, SideRow, parse_unified, side_by_side
from runtui.services.textsafe import plain
from runtui.tui import render

THEME = "ansi_dark"
REMOVED_BG = "on rgb(72,24,28)"
ADDED_BG = "on rgb(22,60,30)"
HUNK_STYLE = "cyan"
META_STYLE = "bold"
NUMBER_STYLE = "dim"
TAB = 4


def _clean(line: str) -> str:
    return plain(line).expandtabs(TAB)


class _Highlighted:
    """Each diff line's code as highlighted `Text`, from one pass per side."""

    def __init__(self, lines: Sequence[DiffLine], path: str) -> None:
        lexer = Syntax.guess_lexer(path)
        syntax = Syntax("", lexer, theme=THEME)
        old = [line for line in lines if line.kind in ("context", "removed")]
        new = [line for line in lines if line.kind in ("context", "added")]
        self._old = dict(zip(map(id, old), _highlight(syntax, old), strict=True))
        self._new = dict(zip(map(id, new), _highlight(syntax, new), strict=True))

    def of(self, line: DiffLine, side: str) -> Text:
        table = self._old if side == "old" else self._new
        return table.get(id(line)) or Text(_clean(line.text))


def _highlight(syntax: Syntax, lines: Sequence[DiffLine]) -> list[Text]:
    if not lines:
        return []
    code = "\n".join(_clean(line.text) for line in lines)
    parts = syntax.highlight(code).split("\n", allow_blank=True)
    if len(parts) < len(lines):  # the lexer dropped something: fall back to plain lines
        return [Text(_clean(line.text)) for line in lines]
    return parts[: len(lines)]


def _number(value: int | None, width: int) -> Text:
    return Text(f"{value:>{width}}" if value is not None else " " * width, style=NUMBER_STYLE)


def unified(diff_text: str, path: str) -> Text:
    """The whole diff of one file, one line per diff line, with old and new line numbers."""
    lines = parse_unified(diff_text)
    code = _Highlighted(lines, path)
    width = len(str(max((n for line in lines for n in (line.old_no, line.new_no) if n), default=1)))
    out = Text(no_wrap=True, end="")
    for line in lines:
        if out:
            out.append("\n")
        if line.kind == "hunk":
            out.append(_clean(line.text), style=HUNK_STYLE)
            continue
        if line.kind == "meta":
            out.append(_clean(line.text), style=META_STYLE)
            continue
        row = Text.assemble(_number(line.old_no, width), " ", _number(line.new_no, width), " ")
        if line.kind == "removed":
            body = Text.assemble(("-", "bold"), code.of(line, "old"))
            body.stylize(REMOVED_BG)
        elif line.kind == "added":
            body = Text.assemble(("+", "bold"), code.of(line, "new"))
            body.stylize(ADDED_BG)
        else:
            body = Text.assemble(" ", code.of(line, "new"))
        out.append_text(row + body)
    return out


def _half(line: DiffLine | None, code: _Highlighted, side: str, width: int, digits: int) -> Text:
    """One side of a side-by-side row, exactly ``width`` cells."""
    if line is None:
        return Text(" " * width)
    number = line.old_no if side == "old" else line.new_no
    changed = line.kind in ("removed", "added")
    sign = ("-" if side == "old" else "+") if changed else " "
    text = Text.assemble(_number(number, digits), " ", (sign, "bold"), code.of(line, side))
    text = render.fit(text, width)
    if changed:
        text.stylize(REMOVED_BG if side == "old" else ADDED_BG, digits + 1)
    return text


def side_by_side_text(diff_text: str, path: str, width: int) -> Text:
    """The diff as two columns of ``width`` cells in all: old file left, new file right."""
    lines = parse_unified(diff_text)
    rows: list[SideRow] = side_by_side(lines)
    code = _Highlighted(lines, path)
    digits = len(str(max((n for ln in lines for n in (ln.old_no, ln.new_no) if n), default=1)))
    half = max(20, (width - 1) // 2)
    out = Text(no_wrap=True, end="")
    for row in rows:
        if out:
            out.append("\n")
        if row.kind in ("hunk", "meta"):
            line = row.left or row.right
            assert line is not None
            style = HUNK_STYLE if row.kind == "hunk" else META_STYLE
            out.append_text(render.fit(Text(_clean(line.text), style=style), 2 * half + 1))
            continue
        out.append_text(_half(row.left, code, "old", half, digits))
        out.append("│", style=NUMBER_STYLE)
        out.append_text(_half(row.right, code, "new", half, digits))
    return out
