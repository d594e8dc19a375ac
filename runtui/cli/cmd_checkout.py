"""``runtui checkout RUN DIR``: restore a run's code snapshot into a folder."""

from __future__ import annotations

from pathlib import Path

import click

from runtui.cli.common import handle_errors, open_store_for_cli, store_option
from runtui.cli.output import store_errors


@click.command("checkout")
@click.argument("run")
@click.argument("folder")
@click.option("--force", is_flag=True, help="Restore into a folder that is not empty.")
@store_option
@handle_errors
@store_errors
def checkout_command(run: str, folder: str, force: bool) -> None:
    """Restore the code RUN ran with into FOLDER, byte for byte, with file
    modes and symlinks. FOLDER must be empty or missing unless --force.
    Nothing is ever written outside FOLDER.

    \b
    Example:
      runtui checkout 3f9a1c2e /tmp/then && diff -r /tmp/then .
    """
    from runtui.errors import RuntuiError
    from runtui.services.textsafe import plain
    from runtui.snapshot.checkout import restore
    from runtui.snapshot.limits import human_size

    if not folder.strip():
        raise RuntuiError("FOLDER is empty; name the folder to restore into")
    dest = Path(folder)

    with open_store_for_cli(readonly=True) as store:
        record = store.run(run)
        if record.snapshot_id is None:
            raise RuntuiError(f"run {record.id} ({plain(record.name)}) has no code snapshot")
        done = restore(store.conn, record.snapshot_id, dest, force=force)
    links = f" and {done.links} symlink(s)" if done.links else ""
    click.echo(
        f"restored {done.files} file(s){links}, {human_size(done.size)}, "
        f"from run {record.id} into {dest}",
        err=True,
    )


commands = [checkout_command]
