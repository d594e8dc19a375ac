"""Writes only `runtui demo` makes: moving freshly logged runs into the past.

The public API stamps a run with the time it was logged, which would make
every demo run "just now" with all its points in the same few milliseconds.
The demo logs its history through that API and then uses this module to give
each run a believable past: start and end times days ago, point times spread
over the run's duration, and the context (command, folder, git) of the
training script the run stands for. Nothing outside `runtui.demo` calls it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from runtui.store import writer


def backdate_run(
    conn: sqlite3.Connection,
    uuid: str,
    *,
    started_at: float,
    ended_at: float | None,
    ms_per_step: float,
    context: Mapping[str, Any],
) -> None:
    """Move run ``uuid`` to ``started_at`` and spread its points ``ms_per_step`` apart.

    ``ended_at`` None keeps a running run open (its heartbeat is its start).
    ``context`` holds run fields to replace (command, cwd, git_*, env, notes).
    """
    run_id = set_context(conn, uuid, context)
    writer.update_run(
        conn,
        run_id,
        started_at=started_at,
        ended_at=ended_at,
        heartbeat_at=started_at if ended_at is None else ended_at,
    )
    conn.execute(
        "UPDATE metrics SET t = CAST(step * ? AS INTEGER) WHERE run_id = ?", (ms_per_step, run_id)
    )
    conn.execute(
        "UPDATE metric_summary SET last_t = CAST(last_step * ? AS INTEGER) WHERE run_id = ?",
        (ms_per_step, run_id),
    )


def set_context(conn: sqlite3.Connection, uuid: str, context: Mapping[str, Any]) -> int:
    """Replace run fields that describe where it ran (command, cwd, git_*, env, notes);
    the run's snapshot is then said to come from ``cwd`` too."""
    run_id = writer.run_row_id(conn, uuid)
    writer.update_run(conn, run_id, **context)
    if context.get("cwd"):
        conn.execute(
            "UPDATE snapshots SET root = ? WHERE id = (SELECT snapshot_id FROM runs WHERE id = ?)",
            (context["cwd"], run_id),
        )
    return run_id


def backdate_experiments(conn: sqlite3.Connection) -> None:
    """Date each experiment from its first run, so "created" agrees with the runs in it."""
    conn.execute(
        "UPDATE experiments SET created_at = coalesce("
        "(SELECT min(started_at) FROM runs WHERE runs.experiment_id = experiments.id), "
        "created_at)"
    )
