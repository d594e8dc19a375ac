"""One file's diff as Rich text, a line at a time: unified or side by side, syntax-highlighted.

`FileDiffLines` parses the diff once and draws any one line on demand, so a
view only draws the lines it shows. Lines are plain until `highlight` has
run (it can run in a thread: it only replaces two dicts): the code of each
side of a change is then highlighted as one block with the lexer of the
file's name (so a multi-line string stays a string). Removed and added
lines get a tinted background and a ``-``/``+`` sign, so changes read
without colour too. Diff text is user data: escape sequences are stripped
before anything is drawn.
"""

from __future__ import annotations

from rich.cells import cell_len
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


def _styled(code: str, style: str) -> Text:
    """``code`` in ``style`` as a span: `Text.render` drops the base style of text without spans."""
    text = Text(no_wrap=True, end="")
    text.append(code, style)
    return text


class FileDiffLines:
    """The lines of one file's diff, drawn one at a time in either layout."""

    def __init__(self, diff_text: str, path: str) -> None:
        self.path = path
        self.lines: list[DiffLine] = parse_unified(diff_text)
        self._code = [_clean(line.text) for line in self.lines]
        numbers = (n for line in self.lines for n in (line.old_no, line.new_no) if n)
        self.digits = len(str(max(numbers, default=1)))
        self._rows: list[tuple[int | None, int | None]] | None = None
        self._old: dict[int, Text] = {}  # line index -> highlighted code, old side
        self._new: dict[int, Text] = {}
        self.highlighted = False

    # -- sizes -----------------------------------------------------------

    @property
    def unified_count(self) -> int:
        return len(self.lines)

    @property
    def unified_width(self) -> int:
        """Cells of the widest unified line (what a view scrolls sideways over)."""
        prefix = 2 * self.digits + 3
        widths = (
            cell_len(code) + (0 if line.kind in ("hunk", "meta") else prefix)
            for line, code in zip(self.lines, self._code, strict=True)
        )
        return max(widths, default=0)

    @property
    def rows(self) -> list[tuple[int | None, int | None]]:
        """Side-by-side rows as (old line index, new line index), made on first use."""
        if self._rows is None:
            index = {id(line): i for i, line in enumerate(self.lines)}
            pairs: list[SideRow] = side_by_side(self.lines)
            self._rows = [
                (
                    index[id(row.left)] if row.left is not None else None,
                    index[id(row.right)] if row.right is not None else None,
                )
                for row in pairs
            ]
        return self._rows

    # -- highlighting ----------------------------------------------------

    def highlight(self) -> None:
        """Syntax-highlight both sides' code (tens of ms for thousands of lines)."""
        syntax = Syntax("", Syntax.guess_lexer(self.path), theme=THEME)
        kinds = [line.kind for line in self.lines]
        old = [i for i, kind in enumerate(kinds) if kind in ("context", "removed")]
        new = [i for i, kind in enumerate(kinds) if kind in ("context", "added")]
        old_texts = self._highlight_block(syntax, old)
        new_texts = self._highlight_block(syntax, new)
        self._old, self._new = old_texts, new_texts
        self.highlighted = True

    def _highlight_block(self, syntax: Syntax, indexes: list[int]) -> dict[int, Text]:
        if not indexes:
            return {}
        code = "\n".join(self._code[i] for i in indexes)
        parts = syntax.highlight(code).split("\n", allow_blank=True)
        if len(parts) < len(indexes):  # the lexer dropped something: keep the plain lines
            return {}
        return dict(zip(indexes, parts, strict=False))

    def _code_of(self, index: int, side: str) -> Text:
        table = self._old if side == "old" else self._new
        return table.get(index) or Text(self._code[index])

    # -- drawing ---------------------------------------------------------

    def _number(self, value: int | None) -> Text:
        text = f"{value:>{self.digits}}" if value is not None else " " * self.digits
        return Text(text, style=NUMBER_STYLE)

    def unified_line(self, index: int) -> Text:
        """Line ``index``: old and new line numbers, a sign, the code."""
        line = self.lines[index]
        if line.kind == "hunk":
            return _styled(self._code[index], HUNK_STYLE)
        if line.kind == "meta":
            return _styled(self._code[index], META_STYLE)
        out = Text.assemble(self._number(line.old_no), " ", self._number(line.new_no), " ")
        out.no_wrap, out.end = True, ""
        if line.kind == "removed":
            body = Text.assemble(("-", "bold"), self._code_of(index, "old"))
            body.stylize(REMOVED_BG)
        elif line.kind == "added":
            body = Text.assemble(("+", "bold"), self._code_of(index, "new"))
            body.stylize(ADDED_BG)
        else:
            body = Text.assemble(" ", self._code_of(index, "new"))
        out.append_text(body)
        return out

    def side_by_side_line(self, row: int, width: int) -> Text:
        """Side-by-side row ``row`` in ``width`` cells: the old line, ``│``, the new line."""
        left, right = self.rows[row]
        half = max(20, (width - 1) // 2)
        first = left if left is not None else right
        assert first is not None
        kind = self.lines[first].kind
        if kind in ("hunk", "meta"):
            style = HUNK_STYLE if kind == "hunk" else META_STYLE
            text = render.fit(_styled(self._code[first], style), 2 * half + 1)
        else:
            text = Text.assemble(
                self._half(left, "old", half), ("│", NUMBER_STYLE), self._half(right, "new", half)
            )
        text.no_wrap, text.end = True, ""
        return text

    def _half(self, index: int | None, side: str, width: int) -> Text:
        """One side of a side-by-side row, exactly ``width`` cells."""
        if index is None:
            return Text(" " * width)
        line = self.lines[index]
        number = line.old_no if side == "old" else line.new_no
        changed = line.kind in ("removed", "added")
        sign = ("-" if side == "old" else "+") if changed else " "
        text = Text.assemble(self._number(number), " ", (sign, "bold"), self._code_of(index, side))
        text = render.fit(text, width)
        if changed:
            text.stylize(REMOVED_BG if side == "old" else ADDED_BG, self.digits + 1)
        return text
