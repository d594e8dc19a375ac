"""``runtui run [OPTIONS] -- COMMAND...``: run a command as a run (see `runtui.services.runner`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from runtui.cli.common import fail, handle_errors, resolved_store_path, store_option


@click.command(
    "run",
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": False},
)
@click.option("--experiment", "-e", default="default", show_default=True, help="Experiment name.")
@click.option("--name", "-n", default=None, help="Run name (default: a generated one).")
@click.option(
    "--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
    help="A param; numbers are stored as numbers. Repeatable.",
)  # fmt: skip
@click.option("--tag", "-t", "tags", multiple=True, metavar="KEY=VALUE", help="A tag. Repeatable.")
@click.option(
    "--scalars", is_flag=True,
    help="Turn printed 'name=value' / 'name: value' numbers into metrics.",
)  # fmt: skip
@click.option(
    "--scalars-regex", metavar="REGEX", default=None,
    help="Own pattern for --scalars: groups (?P<name>) and (?P<value>), or one group per metric.",
)  # fmt: skip
@click.option(
    "--snapshot-root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder to snapshot (default: the git root, else the current folder).",
)  # fmt: skip
@click.option("--no-snapshot", is_flag=True, help="Do not snapshot the code.")
@click.option(
    "--snapshot-max-mb", type=float, default=None, metavar="MB",
    help="Size cap of the snapshot (default $RUNTUI_SNAPSHOT_MAX_MB or 300; 0: none).",
)  # fmt: skip
@click.option(
    "--snapshot-max-files", type=int, default=None, metavar="N",
    help="File-count cap (default $RUNTUI_SNAPSHOT_MAX_FILES or 10000; 0: none).",
)  # fmt: skip
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@store_option
@handle_errors
def run_command(
    experiment: str,
    name: str | None,
    params: tuple[str, ...],
    tags: tuple[str, ...],
    scalars: bool,
    scalars_regex: str | None,
    snapshot_root: Path | None,
    no_snapshot: bool,
    snapshot_max_mb: float | None,
    snapshot_max_files: int | None,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND as a run: snapshot the code, tee its output into the run's
    log, record its exit code as the status, and exit with it.

    The command sees RUNTUI_RUN_ID, so a script calling runtui.init() logs
    into this same run. Ctrl-C and SIGTERM reach the command and the run ends
    canceled; a non-zero exit makes it failed.

    \b
    Examples:
      runtui run -e mnist -p lr=0.01 -p epochs=3 -- python train.py --lr 0.01
      runtui run --scalars -- ./train.sh      # printed "loss: 0.53" become metrics
    """
    from runtui.services.runner import CommandNotStartedError, RunSpec, parse_assignments
    from runtui.services.runner import run_command as run_spec

    if not command:
        fail("no command given: runtui run [OPTIONS] -- COMMAND [ARGS]...")
    _check_names(experiment, name)
    spec = RunSpec(
        command=list(command),
        experiment=experiment,
        name=name,
        params=parse_assignments(params, "param", numbers=True),
        tags=parse_assignments(tags, "tag", numbers=False),
        snapshot=not no_snapshot,
        snapshot_root=snapshot_root,
        max_mb=snapshot_max_mb,
        max_files=snapshot_max_files,
        scalars=scalars,
        scalars_regex=scalars_regex,
        store=resolved_store_path(),
    )
    try:
        code = run_spec(spec)
    except CommandNotStartedError as exc:
        fail(str(exc), exc.exit_code)
    sys.exit(code)


def _check_names(experiment: str, name: str | None) -> None:
    """A blank --experiment or --name is a usage error, caught before a run is started
    (`runtui.start_run` raises ValueError for it, as a call from Python should)."""
    for option, value in (("--experiment", experiment), ("--name", name)):
        if value is not None and not value.strip():
            fail(f"{option} must not be empty")


commands = [run_command]
