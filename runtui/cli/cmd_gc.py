"""``runtui gc``: drop stored bytes nothing uses any more, then compact the database."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import click

from runtui.cli.common import fail, handle_errors, open_store_for_cli, store_option
from runtui.cli.output import store_errors
from runtui.services.units import human_size
from runtui.store import location

if TYPE_CHECKING:
    from runtui.store.reader import Store


@click.command("gc")
@store_option
@handle_errors
@store_errors
def gc_command() -> None:
    """Free disk space: drop code snapshots no run uses, stored files (blobs) no
    snapshot uses, artifact files no run uses (older than an hour, so an artifact
    being saved right now is safe), then compact the database (VACUUM).

    \b
    Example:
      runtui rm 3f9a1c2e --yes && runtui gc
    """
    from runtui.store import maintenance

    with open_store_for_cli() as store:
        if not store.writable:
            fail(f"the store {store.path} is read-only")
        try:
            done = maintenance.collect_garbage(store.conn, store.path)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_FULL:
                raise
            fail(_full_or_corrupt(store))
    click.echo(
        f"freed {human_size(done.bytes_freed)}: {done.snapshots} snapshot(s), "
        f"{done.blobs} blob(s), {done.artifact_files} artifact file(s) removed",
        err=True,
    )
    if done.recent_artifact_files:
        click.echo(
            f"kept {done.recent_artifact_files} unused artifact file(s) written less than "
            f"{maintenance.ARTIFACT_GRACE_S / 3600:g} hour ago (they may belong to a run "
            "saving them right now); run gc again later to free them",
            err=True,
        )


def _full_or_corrupt(store: Store) -> str:
    """Why SQLite said "database or disk is full": a damaged database says so
    too when compacting it, and a compaction needs room for a copy of it."""
    check = store.conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    if check != "ok":
        detail = "; ".join(line for line in check.splitlines() if not line.startswith("***"))
        return f"the store's database is damaged ({detail}); nothing was compacted"
    needed = human_size(location.db_path(store.path).stat().st_size)
    return (
        f"not enough disk space to compact the database: it needs room for a copy of it "
        f"({needed}) in the store folder and in the temporary folder"
    )


commands = [gc_command]
