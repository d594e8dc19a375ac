"""How the data commands write: one ``--format`` option, one writer per format.

Every command that prints data takes the same ``--format`` option
(`format_option`) and hands a `Table` to `write_table`, so a format behaves
the same everywhere. The rules, also stated in the README:

* NaN and ±inf must read back. CSV and Markdown write ``nan``, ``inf``,
  ``-inf`` (Python's ``float()`` and pandas parse them); JSON and JSONL write
  the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (``float()`` parses
  those too; bare ``NaN`` is not JSON). An absent value is an empty CSV
  cell or JSON ``null``.
* In CSV, a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or
  carriage return gets a leading ``'`` so a spreadsheet shows it instead of
  running it as a formula; numbers are never touched. ``--no-escape-formulas``
  turns this off.
* Human formats (the table, Markdown) strip escape sequences and control
  characters from user text; machine formats keep text exactly.
* Colour only on a terminal, never with ``NO_COLOR`` set; progress only on
  stderr, only when it is a terminal and the data does not go to it.

The table is drawn here rather than with ``rich.table.Table``: rich measured
~2 ms per 12-column row on this machine (10,000 runs: ~20 s), while
``runtui ls`` on 10,000 runs must finish in half a second.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from runtui.cli.common import fail
from runtui.errors import StoreError
from runtui.services.textsafe import plain

if TYPE_CHECKING:
    from runtui.services.export import Table

F = TypeVar("F", bound=Callable[..., Any])

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
JSON_NONFINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
# how each format writes a metric value that is NaN, +inf or -inf (as `json_safe` does)
NONFINITE_TEXT = {
    "csv": ("nan", "inf", "-inf"),
    "markdown": ("nan", "inf", "-inf"),
    **dict.fromkeys(("json", "jsonl"), tuple(f'"{t}"' for t in JSON_NONFINITE.values())),
}
PROGRESS_MIN_ROWS = 1_000_000  # about a second of CSV export
_BUFFER = 1 << 20


# -- the option ---------------------------------------------------------------------


def _one_of(choices: Sequence[str], what: str) -> Callable[..., str]:
    def check(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
        value = value.lower()
        if value not in choices:
            fail(f"unknown {what} {value!r} (choose from {', '.join(choices)})")
        return value

    return check


def choice_option(
    *names: str, choices: Sequence[str], default: str, what: str, help: str
) -> Callable[[F], F]:
    """An option limited to ``choices``; anything else is a one-line error (exit 2)."""
    return click.option(
        *names,
        default=default,
        show_default=True,
        metavar="[" + "|".join(choices) + "]",
        callback=_one_of(choices, what),
        help=help,
    )


def format_option(*formats: str, default: str) -> Callable[[F], F]:
    """The shared ``--format`` option, limited to the formats a command offers."""
    return choice_option(
        "--format", "fmt", choices=formats, default=default, what="format", help="Output format."
    )


def store_errors(fn: F) -> F:
    """SQLite errors met mid-command (a corrupt page, a store locked too long): one line."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import sqlite3

        try:
            return fn(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use the store: {exc}") from None

    return wrapper  # type: ignore[return-value]


# -- cells --------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell(value: Any, escape_formulas: bool) -> Any:
    """A value as the csv module should write it (it writes floats as repr: nan, inf)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value) if escape_formulas else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        text = json.dumps(json_safe(value), ensure_ascii=False)
        return neutralise(text) if escape_formulas else text
    return value


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its JSON string form."""
    if isinstance(value, float):
        return value if math.isfinite(value) else JSON_NONFINITE[repr(value)]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def param_text(value: Any) -> str:
    """A param value on one line, as ``show`` and ``diff`` print it: `human_cell`'s
    text, or JSON where that text would hide the value or read as another kind of
    value: None, and text that is empty, padded, holds a control character, or reads
    as a number, ``true``, ``false`` or ``null`` (``"0.1"`` is text, ``0.1`` a number)."""
    if value is None or (isinstance(value, str) and _ambiguous(value)):
        return plain(json.dumps(value, ensure_ascii=False))
    return human_cell(value)


def _ambiguous(text: str) -> bool:
    if not text or not text.isprintable() or text != text.strip():
        return True
    if text in ("true", "false", "null"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def human_cell(value: Any, *, digits: int | None = None) -> str:
    """A value as a person reads it; user text made safe for a terminal."""
    kind = type(value)
    if kind is str and value.isprintable():  # the common case, no cleaning needed
        return value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        if not math.isfinite(value):
            return repr(value)
        return f"{value:.{digits}g}" if digits else repr(value)
    if kind in (list, dict):
        value = json.dumps(json_safe(value), ensure_ascii=False)
    return plain(str(value)).replace("\n", " ").replace("\t", " ").replace("\r", " ")


# -- writers --------------------------------------------------------------------------


def write_table(
    fmt: str,
    table: Table,
    out: IO[str],
    *,
    escape_formulas: bool = True,
    advance: Callable[[int], None] | None = None,
) -> int:
    """Write ``table`` to ``out`` as csv, json, jsonl or markdown; return the row count.

    ``advance(n)`` is called after each chunk of ``n`` rows (for a progress bar).
    """
    writer = _WRITERS[fmt]
    count = 0
    for chunk in writer(table, out, escape_formulas):
        count += chunk
        if advance is not None:
            advance(chunk)
    return count


def _csv(table: Table, out: IO[str], escape: bool) -> Iterator[int]:
    writer = csv.writer(out, lineterminator="\n")
    out.write(csv_row_text(table.columns) + "\n")
    for chunk in table.chunks:
        columns, carriage_return = _csv_columns(chunk, escape)
        rows = zip(*columns, strict=True)
        if carriage_return:  # seldom: the slow way, a row at a time
            out.writelines(csv_row_text(row) + "\n" for row in rows)
        else:
            writer.writerows(rows)
        yield _row_count(chunk)
    yield from _text(table, out)


def _row_count(chunk: Sequence[Sequence[Any]]) -> int:
    return len(chunk[0]) if chunk else 0


def metric_line(fmt: str, run: str, key: str, *, escape_formulas: bool) -> str:
    """The line of a metric point in ``fmt``, a ``%`` format with four ``%s``: step,
    the timestamp's minute and second texts, and the value (finite, or already
    one of `NONFINITE_TEXT`). The run and key are written as the format's
    writer would write them (for `runtui.services.export.metrics_lines`).
    """
    if fmt == "csv":
        cells = csv_row_text([run, neutralise(key) if escape_formulas else key])
        head, tail = cells.replace("%", "%%") + ",", "%s,%s%s,%s\n"
    elif fmt == "markdown":
        head = f"| {markdown_cell(run)} | {markdown_cell(key)} | ".replace("%", "%%")
        tail = "%s | %s%s | %s |\n"
    else:
        encode = json.JSONEncoder(ensure_ascii=False).encode
        cells = f'{{"run": {encode(run)}, "key": {encode(key)}, "step": '.replace("%", "%%")
        head = (",\n" if fmt == "json" else "") + cells  # json: each line after a comma
        tail = '%s, "timestamp": "%s%s", "value": %s}' + ("" if fmt == "json" else "\n")
    return head + tail


AS_IS = frozenset({int, float, type(None)})  # cells every format writes as they are
_FORMULA_CHARS = frozenset(FORMULA_START)
_FIRST_CHAR = slice(0, 1)


def _any_formula(column: Sequence[str]) -> bool:
    """Whether a cell of a column of text starts as a formula (one C-level pass)."""
    return not _FORMULA_CHARS.isdisjoint(map(str.__getitem__, column, repeat(_FIRST_CHAR)))


def _csv_columns(chunk: Sequence[Sequence[Any]], escape: bool) -> tuple[list[Sequence[Any]], bool]:
    """The chunk's columns with `csv_cell` applied to those that need it, and
    whether a text cell holds a carriage return (see `csv_row_text`).

    Deciding per column, with C-level passes (``set(map(type, ...))``),
    leaves the usual columns of numbers and plain text untouched instead of
    calling Python for each of their cells.
    """
    columns: list[Sequence[Any]] = []
    carriage_return = False
    for column in chunk:
        kinds = set(map(type, column))
        if kinds <= AS_IS:
            columns.append(column)
            continue
        if kinds != {str} or (escape and _any_formula(column)):
            column = [csv_cell(v, escape) for v in column]
        columns.append(column)
        texts = column if kinds == {str} else [v for v in column if isinstance(v, str)]
        carriage_return = carriage_return or "\r" in "".join(texts)
    return columns, carriage_return


def csv_row_text(cells: Sequence[Any]) -> str:
    """One CSV row, without its line end.

    The csv module quotes a field holding a line break only if the break is
    one of its line terminator's characters: told that lines end in ``\n``,
    it writes a bare ``\r``, and readers then split the row there. So a row
    with a ``\r`` is written as if lines ended in ``\r\n``, which quotes both.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()[:-2]


def _json_lines(table: Table) -> Iterator[list[str]]:
    """Each chunk of rows as JSON objects, one line each.

    Encoded a column at a time (text, ints and finite floats by the C
    functions the encoder itself uses, the rest through it), then each line is one
    ``%`` of a template holding the encoded keys: no dict per row.
    """
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    keys = [encode(c).replace("%", "%%") for c in table.columns]  # user text: only %s formats
    template = "{" + ", ".join(f"{key}: %s" for key in keys) + "}"

    def encoded(column: Sequence[Any]) -> list[str]:
        kinds = set(map(type, column))
        if kinds == {str}:  # what the encoder does with a str, without its per-call cost
            return list(map(encode_basestring, column))
        if kinds == {int}:
            return list(map(str, column))
        if kinds == {float} and all(map(math.isfinite, column)):
            return list(map(repr, column))
        return [encode(json_safe(v)) for v in column]

    for chunk in table.chunks:
        cells = [encoded(column) for column in chunk]
        yield list(map(template.__mod__, zip(*cells, strict=True)))


def _jsonl(table: Table, out: IO[str], _escape: bool) -> Iterator[int]:
    for lines in _json_lines(table):
        if lines:
            out.write("\n".join(lines))
            out.write("\n")
        yield len(lines)
    yield from _text(table, out)


def _text(table: Table, out: IO[str]) -> Iterator[int]:
    """The body already rendered as text pieces, if the table has them."""
    for count, text in table.text or ():
        out.write(text)
        yield count


def _json(table: Table, out: IO[str], _escape: bool) -> Iterator[int]:
    out.write("[")
    first = True
    for lines in _json_lines(table):
        if lines:
            out.write("\n" if first else ",\n")
            out.write(",\n".join(lines))
            first = False
        yield len(lines)
    for count, text in table.text or ():  # lines each after ",\n" (see `metric_line`)
        if text:
            out.write(text[1:] if first else text)
            first = False
        yield count
    out.write("]\n" if first else "\n]\n")


def markdown_cell(value: Any) -> str:
    return human_cell(value).replace("\\", "\\\\").replace("|", "\\|")


def _markdown(table: Table, out: IO[str], _escape: bool) -> Iterator[int]:
    out.write("| " + " | ".join(markdown_cell(c) for c in table.columns) + " |\n")
    out.write("|" + "|".join("---" for _ in table.columns) + "|\n")
    for chunk in table.chunks:
        rows = zip(*chunk, strict=True)
        out.write("".join("| " + " | ".join(map(markdown_cell, row)) + " |\n" for row in rows))
        yield _row_count(chunk)
    yield from _text(table, out)


_WRITERS = {"csv": _csv, "json": _json, "jsonl": _jsonl, "markdown": _markdown}
DATA_FORMATS = tuple(_WRITERS)


# -- the terminal table -----------------------------------------------------------------

_STATUS_STYLE = {
    "running": "36",
    "completed": "32",
    "failed": "31",
    "canceled": "33",
    "crashed": "35",
}
MAX_CELL = 40


def use_color(stream: IO[str]) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _width(text: str) -> int:
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells, ending in an ellipsis when cut."""
    if _width(text) <= width:
        return text
    if text.isascii():
        return text[: width - 1] + "…"
    from rich.cells import set_cell_size

    return set_cell_size(text, width - 1) + "…"


def _padded(cells: list[str], right: bool) -> list[str]:
    """One column's cells cut to `MAX_CELL` and padded to the same terminal width."""
    if "".join(cells).isascii():  # one check for the whole column: the common case
        width = max(map(len, cells))
        if width > MAX_CELL:
            cells = [c if len(c) <= MAX_CELL else c[: MAX_CELL - 1] + "…" for c in cells]
            width = MAX_CELL
        return list(map(str.rjust if right else str.ljust, cells, repeat(width)))
    fitted = [_fit(c, MAX_CELL) for c in cells]
    widths = [_width(c) for c in fitted]
    width = max(widths)
    return [
        " " * (width - w) + c if right else c + " " * (width - w)
        for c, w in zip(fitted, widths, strict=True)
    ]


def text_column(values: Sequence[Any]) -> list[str]:
    """`human_cell` over a column, skipping the per-cell work where the column allows.

    A column of plain text, of ints or of floats (what a sweep's params
    mostly are) is converted in one C-level pass.
    """
    kinds = set(map(type, values))
    if kinds == {str} and "".join(values).isprintable():
        return list(values)
    if kinds == {int}:
        return list(map(str, values))
    if kinds == {float}:
        return list(map(repr, values))  # as human_cell writes a float, NaN and inf included
    return [human_cell(v) for v in values]


def number_column(values: Sequence[float | None], digits: int) -> list[str]:
    """Floats (NaN and infinities included) with ``digits`` significant digits; None blank."""
    spec = f"%.{digits}g"
    if None not in values:
        return list(map(spec.__mod__, values))
    return ["" if v is None else spec % v for v in values]


def render_table(
    header: Sequence[str],
    columns: Sequence[Sequence[str]],
    *,
    color: bool,
    width: int | None,
    right: frozenset[int] = frozenset(),
    status_column: int | None = None,
) -> tuple[list[str], int]:
    """Aligned lines for a header and its columns of already-formatted cells.

    Cells longer than `MAX_CELL` are cut; with a ``width`` (a terminal), the
    columns that do not fit are left out. Returns the lines and how many
    columns were left out.
    """
    padded = [
        _padded([title, *cells], i in right)
        for i, (title, cells) in enumerate(zip(header, columns, strict=True))
    ]
    shown = len(padded)
    if width is not None:
        used = 0
        for i, column in enumerate(padded):
            used += _width(column[0]) + (2 if i else 0)
            if used > width and i > 0:
                shown = i
                break
    padded = padded[:shown]
    if color:
        for column in padded:
            column[0] = f"\x1b[1m{column[0]}\x1b[0m"
        if status_column is not None and status_column < shown:
            column = padded[status_column]
            for j in range(1, len(column)):
                code = _STATUS_STYLE.get(column[j].strip())
                if code:
                    column[j] = f"\x1b[{code}m{column[j]}\x1b[0m"
    lines = list(map(str.rstrip, map("  ".join, zip(*padded, strict=True))))
    return lines, len(header) - shown


# -- where data goes --------------------------------------------------------------------


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[IO[str]]:
    """A UTF-8 text stream with a large buffer: ``path``, or stdout when None or ``-``.

    A regular file is written under a temporary name and renamed into place
    when complete, so a failed export never leaves a truncated file behind.
    """
    if path in (None, "-"):
        sys.stdout.flush()
        try:
            fd = sys.stdout.fileno()
        except (AttributeError, io.UnsupportedOperation):  # a captured stdout (tests)
            yield sys.stdout
            return
        with open(fd, "w", encoding="utf-8", newline="", buffering=_BUFFER, closefd=False) as out:
            yield out
        return
    target = Path(path)
    if target.exists() and not target.is_file():  # /dev/stdout, a fifo: write in place
        with open(target, "w", encoding="utf-8", newline="", buffering=_BUFFER) as out:
            yield out
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with _terminate_as_exit(), _created(tmp, target) as out:
            yield out
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _created(tmp: Path, target: Path) -> Iterator[IO[str]]:
    """``tmp`` opened for writing; an error names what the user asked for, not ``tmp``."""
    try:
        out = open(tmp, "w", encoding="utf-8", newline="", buffering=_BUFFER)  # noqa: SIM115
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError) and not target.parent.is_dir()
        exc.filename = str(target.parent if missing else target)
        raise
    with out:
        yield out


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """While a file is written, SIGTERM (``kill``, ``timeout``) ends the command as an
    error would, so the temporary file is removed; the exit status is still 143."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def wants_progress(total: int, out: IO[str]) -> bool:
    """A bar for a big job, on stderr when it is a terminal that the data does not go to."""
    return total >= PROGRESS_MIN_ROWS and is_terminal(sys.stderr) and not is_terminal(out)


@contextlib.contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr; yields ``advance(n)``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
