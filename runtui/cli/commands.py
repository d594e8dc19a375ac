"""The subcommands, loaded on demand: ``runtui/cli/cmd_<name>.py`` defines command ``<name>``.

Each command lives in a module of its own with no shared list to edit. Only
the module of the command being run is imported (``runtui ls`` does not pay
for the TUI, the runner or the exporter); ``runtui --help`` imports them all
to show their one-line help.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import IO, Any

import click

import runtui.cli

PREFIX = "cmd_"


def command_names() -> list[str]:
    import pkgutil  # only listing needs it: running one command imports just its module

    return sorted(
        info.name[len(PREFIX) :]
        for info in pkgutil.iter_modules(runtui.cli.__path__)
        if info.name.startswith(PREFIX)
    )


def load(name: str) -> click.Command | None:
    if not name.isidentifier():
        return None
    module_name = f"runtui.cli.{PREFIX}{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:  # no such command; a module it needs missing is a bug
            return None
        raise
    return next((c for c in module.commands if c.name == name), None)


class LazyGroup(click.Group):
    """A click group whose subcommands are imported when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *command_names()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is None:
            command = load(cmd_name)
            if command is not None:
                self.add_command(command)
        return command

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with one_line_usage_errors():  # a subcommand's arguments are parsed in here
            return super().invoke(ctx)


class OneLineUsageError(click.UsageError):
    """A usage error shown as every other error is: one ``runtui: error:`` line
    (click's own shows the usage, a hint and the error on three)."""

    def show(self, file: IO[Any] | None = None) -> None:
        hint = f" (see '{self.ctx.command_path} --help')" if self.ctx is not None else ""
        message = self.message[:-1] if self.message.endswith(".") else self.message
        click.echo(f"runtui: error: {message}{hint}", err=True)


@contextlib.contextmanager
def one_line_usage_errors() -> Iterator[None]:
    try:
        yield
    except OneLineUsageError:
        raise
    except click.UsageError as error:
        raise OneLineUsageError(error.format_message(), error.ctx) from None
