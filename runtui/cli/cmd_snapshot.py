"""``runtui snapshot --dry-run [FOLDER]``: what a run's code snapshot would hold, with sizes."""

from __future__ import annotations

from pathlib import Path

import click

from runtui.cli.common import fail, handle_errors, store_option, store_path


@click.command("snapshot")
@click.argument(
    "folder", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@click.option("--dry-run", is_flag=True, help="List what would be captured (required).")
@click.option(
    "--largest", type=click.IntRange(min=0), default=None, metavar="N",
    help="List only the N largest files (0: none, just the total).",
)  # fmt: skip
@click.option("--max-mb", type=float, default=None, metavar="MB", help="Size cap to check against.")
@click.option("--max-files", type=int, default=None, metavar="N", help="File cap to check against.")
@store_option
@handle_errors
def snapshot_command(
    folder: Path | None,
    dry_run: bool,
    largest: int | None,
    max_mb: float | None,
    max_files: int | None,
) -> None:
    """List the files a run started here would snapshot (FOLDER: default the git
    root, else the current folder), with sizes, the total, and whether it fits
    the size cap. Tune what goes in with a .runtuiignore file at the root.

    \b
    Examples:
      runtui snapshot --dry-run
      runtui snapshot --dry-run --largest 20 ~/code/mnist
    """
    from runtui.services.textsafe import plain
    from runtui.snapshot.capture import choose_root
    from runtui.snapshot.gitdiff import git_root
    from runtui.snapshot.limits import Limits, SnapshotTooLargeError, check, human_size
    from runtui.snapshot.walk import walk
    from runtui.store.location import resolve_store_path

    if not dry_run:
        fail("snapshots are taken by runs; use --dry-run to preview one")
    root = choose_root(folder, None if folder else git_root(Path.cwd()))
    limits = Limits.resolve(max_mb, max_files, options=("--max-mb", "--max-files"))
    tree = walk(root, exclude=[resolve_store_path(store_path())], **limits.walk_stops())
    entries = tree.entries
    if largest is not None:
        entries = sorted(entries, key=lambda e: -e.size)[:largest]
    width = max((len(human_size(e.size)) for e in entries), default=0)
    for entry in entries:
        link = f" -> {plain(entry.link)}" if entry.link is not None else ""
        click.echo(f"{human_size(entry.size):>{width}}  {plain(entry.path)}{link}")
    rules = {"none": "no ignore file"}.get(tree.rules.source, tree.rules.source)
    click.echo(
        f"{len(tree.entries):,} files, {human_size(tree.total_size)} in {root} "
        f"(rules: {rules}; {limits.describe()})",
        err=True,
    )
    if tree.truncated:
        click.echo("runtui: listing stopped early: far over a cap", err=True)
    for note in tree.skipped:
        click.echo(f"runtui: warning: left out {plain(note)}", err=True)
    try:
        check(tree, limits)
    except SnapshotTooLargeError as exc:
        fail(str(exc), 1)


commands = [snapshot_command]
