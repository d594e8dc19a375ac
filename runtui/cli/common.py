"""Conventions every command shares: ``--store``, errors, opening the store."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from runtui.errors import RuntuiError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report a process ended by SIGINT


class StoreRef:
    """The ``--store`` value, given before the command (group) or after it (command)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path


def _remember_store(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(StoreRef).path = value
    return value


STORE_HELP = "Store folder (default: $RUNTUI_STORE, else the nearest .runtui/ upward)."


def store_option(fn: F | None = None, *, help: str = STORE_HELP) -> Any:
    """``--store PATH``: where the store is (default: $RUNTUI_STORE, nearest .runtui/).

    ``@store_option`` as it is, or ``@store_option(help=...)`` for a command
    that finds its store otherwise.
    """
    if fn is None:
        return functools.partial(store_option, help=help)
    return click.option(
        "--store",
        "store",
        metavar="PATH",
        default=None,
        expose_value=False,
        is_eager=True,
        callback=_remember_store,
        help=help,
    )(fn)


def store_path(ctx: click.Context | None = None) -> str | None:
    ctx = ctx or click.get_current_context()
    ref = ctx.find_object(StoreRef)
    return ref.path if ref else None


def open_store_for_cli(readonly: bool = False):
    from runtui.store.reader import open_store

    return open_store(store_path(), readonly=readonly)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print a one-line error to stderr and exit."""
    click.echo(f"runtui: error: {message}", err=True)
    sys.exit(code)


def exit_on_broken_pipe(code: int) -> NoReturn:
    """The reader of stdout is gone (``| head``): exit with ``code``, saying nothing (stderr
    is closed, so Python's own flush of stdout at exit cannot print a warning either)."""
    sys.stderr.close()
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Turn `RuntuiError` (and a closed stdout pipe) into a one-line message and exit 2;
    Ctrl-C into exit status 130, quietly (not click's "Aborted!" and status 1, which
    here means "differences found")."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RuntuiError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            exit_on_broken_pipe(0)
        except OSError as exc:
            fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))

    return wrapper  # type: ignore[return-value]


def resolved_store_path() -> Path:
    from runtui.store.location import resolve_store_path

    return resolve_store_path(store_path())
