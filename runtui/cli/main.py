"""The ``runtui`` command group (subcommands load on demand: see `commands`)."""

from __future__ import annotations

import click

from runtui import __version__
from runtui.cli.commands import LazyGroup
from runtui.cli.common import StoreRef, store_option


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
        ctx.invoke(main.get_command(ctx, "ui"))
