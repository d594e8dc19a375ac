"""A run's neighbours in its experiment, for "compare with the previous run".

One indexed seek on ``runs_by_experiment (experiment_id, started_at)``.
Runs started in the same second are ordered by row id, as the runs table
orders them.
"""

from __future__ import annotations

import sqlite3


def previous_run(conn: sqlite3.Connection, row_id: int) -> str | None:
    """The uuid of the run of the same experiment started just before run ``row_id``."""
    row = conn.execute(
        "SELECT p.uuid FROM runs r JOIN runs p ON p.experiment_id = r.experiment_id "
        "WHERE r.id = ? AND (p.started_at < r.started_at "
        "OR (p.started_at = r.started_at AND p.id < r.id)) "
        "ORDER BY p.started_at DESC, p.id DESC LIMIT 1",
        (row_id,),
    ).fetchone()
    return None if row is None else row[0]
