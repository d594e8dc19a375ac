"""The ``runtui`` command group; every subcommand module is registered here."""

from __future__ import annotations

import click

from runtui import __version__
from runtui.cli.common import StoreRef, store_option


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runtui")
@store_option
@click.pass_context
def main(ctx: click.Context) -> None:
    """runtui: a local-first run history for machine-learning work.

    With no command, opens the terminal UI on the store.

    \b
    Example:
      runtui demo            # build a demo store and explore it
      runtui ls --format csv
    """
    ctx.ensure_object(StoreRef)
    if ctx.invoked_subcommand is None:
        ctx.invoke(_ui_command())


def _ui_command() -> click.Command:
    return main.commands["ui"]


def _register() -> None:
    from runtui.cli import commands

    for command in commands.discover():
        main.add_command(command)


_register()
