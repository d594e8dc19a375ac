"""``runtui ls``: the runs as a table, CSV, JSON, JSON lines or Markdown."""

from __future__ import annotations

from typing import Any

import click

from runtui.cli.common import handle_errors, open_store_for_cli, store_option
from runtui.cli.output import (
    AS_IS,
    DATA_FORMATS,
    format_option,
    number_column,
    open_output,
    render_table,
    store_errors,
    text_column,
    use_color,
    write_table,
)


@click.command("ls")
@click.option("--experiment", "-e", metavar="NAME", help="Only runs of this experiment.")
@click.option(
    "--filter",
    "query",
    metavar="QUERY",
    help="Only runs matching a filter, e.g. 'status=completed lr<1e-3' (see README).",
)
@format_option("table", *DATA_FORMATS, default="table")
@store_option
@handle_errors
@store_errors
def ls_command(experiment: str | None, query: str | None, fmt: str) -> None:
    """List runs, newest first: id, name, experiment, status, start, duration,
    the params that differ between the runs and the last values of a few metrics.

    In csv, json, jsonl and markdown, `started` is ISO 8601 UTC and `duration`
    is in seconds.

    \b
    Examples:
      runtui ls
      runtui ls --experiment finetune --filter 'status=completed lr<1e-3'
      runtui ls --format csv > runs.csv
    """
    from runtui.services.export import listing

    with open_store_for_cli() as store:
        runs = listing(store, query, experiment, local_times=fmt == "table")
    if fmt != "table":
        with open_output(None) as out:
            write_table(fmt, runs.table(), out)
        return
    if not runs.data.runs.uuid:
        click.echo("no runs" + (" match" if query or experiment else " yet"), err=True)
        return
    _print_table(runs)


def _print_table(runs: Any) -> None:
    import sys

    from runtui.cli.output import is_terminal

    params, metrics = runs.param_keys, runs.metric_keys
    clash = set(params) & set(metrics)
    header = [
        "id", "name", "experiment", "status", "started", "duration",
        *text_column([f"params.{k}" if k in clash else k for k in params]),
        *text_column([f"metrics.{k}" if k in clash else k for k in metrics]),
    ]  # fmt: skip
    raw = runs.column_values()
    first_metric = 6 + len(params)
    columns = [
        *map(text_column, raw[:first_metric]),
        *(number_column(values, 4) for values in raw[first_metric:]),
    ]
    numeric = frozenset(i for i in range(6, len(header)) if set(map(type, raw[i])) <= AS_IS)
    width = None
    if is_terminal(sys.stdout):
        import shutil  # only for a terminal: 5 ms of imports

        width = shutil.get_terminal_size().columns
    lines, hidden = render_table(
        header,
        columns,
        color=use_color(sys.stdout),
        width=width,
        right=numeric | {5},
        status_column=3,
    )
    with open_output(None) as out:
        out.write("\n".join(lines) + "\n")
    if hidden:
        click.echo(
            f"({hidden} more column{'s' if hidden > 1 else ''} not shown: widen the "
            "terminal or use --format csv)",
            err=True,
        )


commands = [ls_command]
