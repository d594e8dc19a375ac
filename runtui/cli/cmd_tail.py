"""``runtui tail RUN [-f] [-n N]``: a run's captured output, for scripts and plain terminals.

Lines are printed as a terminal would have shown them after ``\\r`` redraws
(a progress bar prints its last state). Escape sequences never reach the
output raw: on a terminal colours (SGR) are kept and everything else (cursor
moves, screen clears, window titles) is removed; into a pipe or file, or
with ``NO_COLOR``, all of them are removed.

``-f`` follows the run through the live feed (`runtui.live`) until the run
ends, then prints the unfinished last line, if any, and exits 0. On a
terminal, the line being written meanwhile (a progress bar) is shown and
redrawn in place as it changes; into a pipe only finished lines go.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import click

from runtui.cli.common import handle_errors, open_store_for_cli, resolved_store_path, store_option
from runtui.cli.output import store_errors

_SGR = re.compile(r"\x1b\[[0-9;:]*m")
Emit = Callable[[list[str], str], None]  # finished lines, the line being written
_REDRAW = "\r\x1b[2K"  # back to the start of the line, and clear it


def _for_terminal(line: str) -> str:
    """``line`` with its colours kept and every other escape sequence removed."""
    from runtui.services.textsafe import plain

    pieces, pos, coloured = [], 0, False
    for match in _SGR.finditer(line):
        pieces.append(plain(line[pos : match.start()]))
        pieces.append(match.group())
        pos, coloured = match.end(), True
    pieces.append(plain(line[pos:]))
    if coloured:
        pieces.append("\x1b[0m")  # colours never leak into the next line or the prompt
    return "".join(pieces)


class _Printer:
    """Prints finished lines, and on a terminal the line being written, redrawn in place."""

    def __init__(self) -> None:
        from runtui.services.textsafe import plain

        self.terminal = sys.stdout.isatty()
        use_colour = self.terminal and not os.environ.get("NO_COLOR")
        self.clean = _for_terminal if use_colour else plain
        self.plain = plain
        self.shown = False  # a line being written is on the screen, below the finished ones
        self.printed = False  # anything at all was printed

    def __call__(self, lines: list[str], partial: str = "") -> None:
        out = _REDRAW if self.shown else ""
        out += "".join(self.clean(line) + "\n" for line in lines)
        self.printed = self.printed or bool(lines or partial)
        self.shown = self.terminal and bool(partial)
        if self.shown:  # plain, cut to the width: a wrapped line cannot be redrawn in place
            width = max(1, shutil.get_terminal_size().columns - 1)
            out += _cut(self.plain(partial).expandtabs(8), width)
        self._write(out)

    def close(self) -> None:
        """Stopped (Ctrl-C, an error): a line being written stays, the prompt goes below it."""
        if self.shown:
            self.shown = False
            self._write("\n")

    @staticmethod
    def _write(text: str) -> None:
        if text:
            sys.stdout.write(text)
            sys.stdout.flush()


def _cut(text: str, width: int) -> str:
    from rich.cells import cell_len, set_cell_size

    return text if cell_len(text) <= width else set_cell_size(text, width)


def _follow(uuid: str, path: Path, count: int, emit: Emit) -> str:
    """Print the log's last ``count`` lines, then its new ones until the run ends;
    returns how it ended (its status, or "removed")."""
    from runtui.live import ChangeFeed, Changes, LogTail

    feed = ChangeFeed(resolved_store_path())
    feed.follow_log(uuid, initial_lines=count)
    feed.open()
    assert feed.store is not None
    stop = threading.Event()
    outcome = "running"

    def deliver(changes: Changes) -> None:
        nonlocal outcome
        update = changes.logs.get(uuid)
        if update is not None:
            emit(update.lines, update.partial)
        for record in changes.changed_runs:
            if record.uuid == uuid and record.status != "running":
                outcome = record.status
        if uuid in changes.removed_runs:
            outcome = "removed"
        if outcome != "running":
            stop.set()

    try:
        status = feed.store.run(uuid).status
        if status != "running":  # ended before the feed's baseline
            update = LogTail(path, count).finish()
            emit(update.lines if update else [], "")
            return status
        feed.run(deliver, stop)
        return outcome
    finally:
        feed.close()


def _no_output(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return True


@click.command("tail")
@click.argument("run_ref", metavar="RUN")
@click.option(
    "-f",
    "--follow",
    is_flag=True,
    help="Keep printing new lines until the run ends (Ctrl-C stops).",
)
@click.option(
    "-n",
    "--lines",
    "count",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many of the last lines to print first.",
)
@store_option
@handle_errors
@store_errors
def tail(run_ref: str, follow: bool, count: int) -> None:
    """Print the last lines of a run's captured output; with -f, follow it.

    \b
    Examples:
      runtui tail brave-otter-7 -n 50
      runtui tail 3f2a9c1e -f | grep loss
    """
    emit = _Printer()
    outcome = "running"  # how a followed run ended (see `_follow`)
    try:
        store = open_store_for_cli()
        try:
            record = store.run(run_ref)
            path = store.log_path(record)
        finally:
            store.close()
        if follow:
            outcome = _follow(record.uuid, path, count, emit)
        else:
            from runtui.services.logs import read_tail

            emit(read_tail(path, count), "")
    finally:  # Ctrl-C (exit 130, see handle_errors) or an error: end the line in progress
        emit.close()
    if not emit.printed and (not follow or outcome != "removed") and _no_output(path):
        click.echo(f"runtui: run {record.id} captured no output", err=True)
    if follow:
        click.echo(f"runtui: run {record.id} {_ENDED.get(outcome, outcome)}", err=True)


_ENDED = {"removed": "was removed", "running": "is still running"}


commands = [tail]
