"""Building small stores for the CLI tests, and running the CLI.

Runs are written with the store's writer functions (the same path the
logger takes), so each test controls start times, statuses and values
exactly and a store takes milliseconds to build.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid as uuid_module
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from runtui.cli.main import main
from runtui.store import connection, writer

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def add_run(
    store: Path,
    name: str,
    *,
    experiment: str = "default",
    status: str = "completed",
    started_at: float = T0,
    duration: float | None = 60.0,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    metrics: Mapping[str, Sequence[float]] | None = None,
    error: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Write one run; metric points are at steps 0.. and 250 ms apart. Returns its uuid."""
    run_uuid = str(uuid_module.uuid4())
    conn = connection.connect(store, create=True)

    def write(c: Any) -> None:
        row_id = writer.insert_run(
            c,
            experiment,
            {"uuid": run_uuid, "name": name, "status": "running", "started_at": started_at,
             "heartbeat_at": started_at, "host": "testhost", **(extra or {})},
        )  # fmt: skip
        if status != "running":
            ended = started_at + (duration or 0.0)
            writer.finish_run(c, row_id, status, ended_at=ended, error=error)
        writer.write_params(c, row_id, params or {})
        writer.write_tags(c, row_id, tags or {})
        if metrics:
            keys = writer.intern_metric_keys(c, metrics)
            columns = {}
            for metric, values in metrics.items():
                steps = list(range(len(values)))
                columns[keys[metric]] = writer.Column(steps, [s * 250 for s in steps], list(values))
            writer.write_points(c, row_id, columns)

    connection.write_transaction(conn, write)
    conn.close()
    return run_uuid


def cli(*args: str, input: str | None = None) -> Result:
    """Run ``runtui ARGS`` in this process; stdout and stderr kept apart."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def cli_process(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m runtui ARGS`` in a fresh process (real stdout/stderr, real start-up)."""
    return subprocess.run(
        [sys.executable, "-m", "runtui", *args],
        capture_output=True,
        text=True,
        env=_process_env(env),
        cwd=cwd,
        timeout=60,
    )


def cli_into_closed_pipe(*args: str, env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """Run ``python -m runtui ARGS`` writing into a pipe whose reader is gone (as after
    ``| head -1``); its exit status and stderr."""
    reader, writer = os.pipe()
    os.close(reader)  # before the process starts: its first write fails
    try:
        done = subprocess.run(
            [sys.executable, "-m", "runtui", *args],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            env=_process_env(env),
            timeout=60,
        )
    finally:
        os.close(writer)
    return done.returncode, done.stderr


def _process_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """This environment plus ``env``, with this checkout first on the import path."""
    full_env = {**os.environ, **(env or {})}
    root = str(Path(__file__).resolve().parents[1])
    full_env["PYTHONPATH"] = root + os.pathsep + full_env.get("PYTHONPATH", "")
    return full_env
