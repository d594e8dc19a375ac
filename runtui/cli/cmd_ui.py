"""``runtui ui`` (and bare ``runtui``): the terminal UI on the store.

The store is checked before the terminal is taken over, so a corrupt store,
one written by a newer runtui, or a path that is not a store gives one line
on stderr and exit 2 instead of a broken screen. No store at all is not an
error: the UI shows how to log a first run.
"""

from __future__ import annotations

from pathlib import Path

import click

from runtui.cli.common import handle_errors, resolved_store_path, store_option
from runtui.errors import RuntuiError, StoreError


def check_store(folder: Path) -> None:
    """Raise `StoreError` unless ``folder`` is a readable store or a place for a new one."""
    from runtui.store import location
    from runtui.store.reader import open_store

    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder} is not a runtui store folder (it is a file)")
    if location.db_path(folder).exists():
        open_store(folder, readonly=True).close()
    elif folder.is_dir() and any(
        p.name not in {location.LOGS_DIRNAME, location.ARTIFACTS_DIRNAME, location.SPILL_DIRNAME}
        for p in folder.iterdir()
    ):
        raise StoreError(f"{folder} is not a runtui store (no {location.DB_FILENAME} in it)")


def check_terminal() -> None:
    """Raise `RuntuiError` unless keys come from a terminal and the screen (drawn on
    stderr) goes to one: elsewhere the UI would draw into a file or wait forever."""
    import sys

    from runtui.cli.output import is_terminal

    if not (is_terminal(sys.__stdin__) and is_terminal(sys.__stderr__)):
        raise RuntuiError(
            "the terminal UI needs a terminal (stdin and stderr); "
            "for scripts, use runtui ls, show, export or tail"
        )


@click.command("ui")
@store_option
@handle_errors
def ui() -> None:
    """Open the terminal UI: experiments, runs, metrics, logs, code.

    Keys: ? help, / filter, enter open, space mark, s/S sort, c columns,
    ctrl+p commands, q quit.

    \b
    Examples:
      runtui
      runtui ui --store /data/experiments/.runtui
    """
    folder = resolved_store_path()
    check_store(folder)
    check_terminal()
    from runtui.tui.app import run_tui

    run_tui(folder)


commands = [ui]
