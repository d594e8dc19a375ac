"""``runtui rm RUN...``: delete runs, after asking on a terminal."""

from __future__ import annotations

import sys

import click

from runtui.cli.common import fail, handle_errors, open_store_for_cli, store_option
from runtui.cli.output import human_cell, store_errors


@click.command("rm")
@click.argument("runs", metavar="RUN...", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (for scripts).")
@store_option
@handle_errors
@store_errors
def rm_command(runs: tuple[str, ...], yes: bool) -> None:
    """Delete runs (each a uuid, short id or unique name): their points, params,
    tags, artifact records, captured output, and code snapshots no other run
    uses. Files shared with other runs stay until `runtui gc`.

    Asks first when standard input is a terminal; refuses without --yes
    otherwise.

    \b
    Examples:
      runtui rm 3f9a1c2e brave-otter-12
      runtui ls --format jsonl --filter status=crashed | jq -r .id | xargs runtui rm --yes
    """
    from runtui.store import connection, maintenance

    with open_store_for_cli() as store:
        records = {}
        for ref in runs:
            record = store.run(ref)
            records[record.row_id] = record
        running = [r for r in records.values() if r.status == "running"]
        if running:
            fail(
                f"run {running[0].id} ({human_cell(running[0].name)}) is still running; "
                "delete it once it has ended"
            )
        if not store.writable:
            fail(f"the store {store.path} is read-only")
        for record in records.values():
            click.echo(
                f"  {record.id}  {human_cell(record.name)}  ({human_cell(record.experiment)}, "
                f"{record.status}, {_points(sum(s.count for s in record.summary.values()))})",
                err=True,
            )
        noun = "run" if len(records) == 1 else "runs"
        if not yes:
            if not _interactive():
                fail("refusing to delete without --yes: standard input is not a terminal")
            if not click.confirm(f"Delete {len(records)} {noun}?", default=False, err=True):
                click.echo("nothing deleted", err=True)  # an answer, not an error
                sys.exit(1)
        deleted = connection.write_transaction(
            store.conn, lambda c: maintenance.delete_runs(c, list(records))
        )
        maintenance.delete_log_files(store.path, [r.uuid for r in records.values()])
    snapshots = ""
    if deleted.snapshots:
        snapshots = f", {deleted.snapshots} snapshot{'s' if deleted.snapshots != 1 else ''}"
    click.echo(
        f"deleted {deleted.runs} {noun} ({_points(deleted.points)}{snapshots}); "
        "`runtui gc` frees the disk space",
        err=True,
    )


def _points(count: int) -> str:
    return f"{count:,} point{'s' if count != 1 else ''}"


def _interactive() -> bool:
    """Whether a person can answer a question: standard input is a terminal."""
    return sys.stdin.isatty()


commands = [rm_command]
