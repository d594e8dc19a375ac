"""``runtui export``: runs or metric points as CSV, JSON, JSON lines or Markdown."""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

import click

from runtui.cli.common import (
    fail,
    handle_errors,
    open_store_for_cli,
    resolved_store_path,
    store_option,
)
from runtui.cli.output import (
    DATA_FORMATS,
    NONFINITE_TEXT,
    choice_option,
    format_option,
    metric_line,
    open_output,
    progress_bar,
    store_errors,
    wants_progress,
    write_table,
)


@click.command("export")
@click.option("--experiment", "-e", metavar="NAME", help="Only runs of this experiment.")
@click.option(
    "--filter",
    "query",
    metavar="QUERY",
    help="Only runs matching a filter, e.g. 'tags.team=nlp metrics.val_loss<0.3' (see README).",
)
@choice_option(
    "--what",
    "what",
    choices=("runs", "metrics"),
    default="runs",
    what="export",
    help="runs: one row per run; metrics: one row per logged point.",
)
@format_option(*DATA_FORMATS, default="csv")
@click.option(
    "-o", "--output", "output", metavar="FILE", help="Write to FILE instead of standard output."
)
@click.option(
    "--escape-formulas/--no-escape-formulas",
    default=True,
    show_default=True,
    help="In CSV, prefix ' to text cells starting with = + - @ tab or CR, which a "
    "spreadsheet would run as formulas.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes turning metric points into lines (default: one per CPU, at most "
    "8, for exports of 300,000 points or more; 1: no extra process).",
)
@store_option
@handle_errors
@store_errors
def export_command(
    experiment: str | None,
    query: str | None,
    what: str,
    fmt: str,
    output: str | None,
    escape_formulas: bool,
    jobs: int | None,
) -> None:
    """Export runs (one row per run: id, uuid, name, experiment, status,
    started_at, ended_at, duration_s, then params.<k>, tags.<k> and metrics.<k>,
    the last value) or metric points (run, key, step, timestamp, value).
    Times are ISO 8601 UTC; NaN and infinities are written so each format reads
    them back (see README).

    \b
    Examples:
      runtui export > runs.csv
      runtui export --what metrics --experiment finetune -o points.csv
      runtui export --filter 'status=completed' --format jsonl | jq .name
    """
    from runtui.services.export import metrics_lines, runs_table
    from runtui.store.export import read_snapshot

    if output not in (None, "-") and _is_store_database(Path(output)):
        fail(f"refusing to write over the store's own database ({output}); choose another file")
    escape = escape_formulas and fmt == "csv"
    with (
        open_store_for_cli() as store,
        read_snapshot(store.conn),
        contextlib.ExitStack() as workers,
    ):
        if what == "runs":
            table = runs_table(store, query, experiment)
        else:
            lines = metrics_lines(
                store,
                query,
                experiment,
                line_of=functools.partial(metric_line, fmt, escape_formulas=escape),
                nonfinite=NONFINITE_TEXT[fmt],
                jobs=jobs,
            )
            table = workers.enter_context(lines)
        with open_output(output) as out:
            if wants_progress(table.total, out):
                with progress_bar(table.total, f"exporting {what}") as advance:
                    count = write_table(fmt, table, out, escape_formulas=escape, advance=advance)
            else:
                count = write_table(fmt, table, out, escape_formulas=escape)
    if output not in (None, "-"):
        noun = "run" if what == "runs" else "point"
        click.echo(f"wrote {count:,} {noun}{'' if count == 1 else 's'} to {output}", err=True)


def _is_store_database(output: Path) -> bool:
    """Whether ``output`` names the store's database or its -wal/-shm/-journal file."""
    from runtui.store.location import db_path

    db = db_path(resolved_store_path())
    target = output.expanduser().resolve()
    for suffix in ("", "-wal", "-shm", "-journal"):
        own = db.with_name(db.name + suffix)
        if target == own.resolve():
            return True
        try:
            if os.path.samefile(output, own):  # a hard link or another path to it
                return True
        except OSError:
            continue
    return False


commands = [export_command]
