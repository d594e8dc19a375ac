"""Reading one metric's history for a chart without loading every point.

`Store.history` returns every point as a Python tuple: right for exports,
far too slow for a chart of a 1,000,000-point metric (seconds). A chart needs
a few hundred points, and three reads serve it:

* `read_points` — every point (optionally only those after a step): for
  short series and for appending what a live run logged since last time.
* `sample` — one point at each of ``n`` evenly spaced steps, found through
  the ``metrics`` primary key (run_id, key_id, step): ``n`` index seeks, a
  few milliseconds whatever the length of the series. It may miss spikes.
* `buckets` — min, max and mean of each of ``n`` step ranges in one
  ``GROUP BY``: exact, but it scans every point (about a second per million
  points on a small machine), so a chart shows `sample` first and replaces
  it with `buckets` when that is ready.

Time is returned in seconds since the run started; NaN (stored as NULL)
comes back as NaN. Buckets ignore NaN and ±inf.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

Point = tuple[int, float, float]  # (step, seconds since start, value)

_FINITE = "value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308"


@dataclass(frozen=True)
class Bucket:
    """The points of one step range: their extremes and mean (finite values only)."""

    step_lo: int
    step_hi: int
    t_lo: float
    t_hi: float
    min: float
    max: float
    mean: float
    count: int


def key_id(conn: sqlite3.Connection, name: str) -> int | None:
    """The interned id of metric ``name``, or None if nothing was ever logged under it."""
    row = conn.execute("SELECT id FROM metric_keys WHERE name = ?", (name,)).fetchone()
    return None if row is None else row[0]


def read_points(
    conn: sqlite3.Connection, run_id: int, key: int, *, after_step: int | None = None
) -> list[Point]:
    """Every point of one metric of one run (those after ``after_step`` if given)."""
    sql = "SELECT step, t, value FROM metrics WHERE run_id = ? AND key_id = ?"
    args: list[int] = [run_id, key]
    if after_step is not None:
        sql += " AND step > ?"
        args.append(after_step)
    rows = conn.execute(sql + " ORDER BY step", args).fetchall()
    return [(s, t / 1000.0, math.nan if v is None else v) for s, t, v in rows]


def sample(
    conn: sqlite3.Connection, run_id: int, key: int, first_step: int, last_step: int, n: int
) -> list[Point]:
    """About ``n`` points at evenly spaced steps (the first point at or after each target)."""
    span = last_step - first_step
    targets = sorted({first_step + span * i // max(1, n - 1) for i in range(n)})
    seek = conn.execute
    sql = (
        "SELECT step, t, value FROM metrics WHERE run_id = ? AND key_id = ? AND step >= ? "
        "ORDER BY step LIMIT 1"
    )
    out: list[Point] = []
    last_seen = None
    for target in targets:
        if last_seen is not None and target <= last_seen:
            continue  # sparse steps: the previous seek already went past this target
        row = seek(sql, (run_id, key, target)).fetchone()
        if row is None:
            break
        last_seen = row[0]
        out.append((row[0], row[1] / 1000.0, math.nan if row[2] is None else row[2]))
    return out


def buckets(
    conn: sqlite3.Connection, run_id: int, key: int, first_step: int, last_step: int, n: int
) -> list[Bucket]:
    """Min/max/mean of the finite values in ``n`` equal step ranges, in step order."""
    span = last_step - first_step + 1
    rows = conn.execute(
        "SELECT (step - ?) * ? / ? AS b, min(step), max(step), min(t), max(t), "
        "min(value), max(value), avg(value), count(*) "
        f"FROM metrics WHERE run_id = ? AND key_id = ? AND {_FINITE} "
        "GROUP BY b ORDER BY b",
        (first_step, n, span, run_id, key),
    ).fetchall()
    return [
        Bucket(s_lo, s_hi, t_lo / 1000.0, t_hi / 1000.0, lo, hi, mean, count)
        for _, s_lo, s_hi, t_lo, t_hi, lo, hi, mean, count in rows
    ]
