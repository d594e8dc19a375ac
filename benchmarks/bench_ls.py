"""``runtui ls`` on 10,000 runs, end to end, process start included.

A store of 10,000 runs (4 params, a tag, 4 metrics x 10 points each; quick:
1,000 runs) is written through runtui's writer functions. Each figure is the
median wall time of several fresh processes with stdout to /dev/null:

(a) ``runtui ls`` (the table), ``--format csv`` and ``--format json``;
(b) the plain way: ``python -c`` with ``sqlite3`` running the same three
    reads (runs with their experiment, the params, the metric last values)
    and printing one tab-separated line per run;
(c) for scale: ``runtui --help`` (interpreter, click and every command
    module imported, no store opened).

The children run with bytecode caching on (into a scratch
``PYTHONPYCACHEPREFIX``, after one warm-up run), as an installed runtui
does: with ``PYTHONDONTWRITEBYTECODE=1`` every start compiles each module
from source, which is not what a user's ``runtui ls`` pays.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.big_stores import build_store
from benchmarks.common import REPO, Row, main, temp_dir

REPEAT = 5

RAW = """
import sqlite3, sys
conn = sqlite3.connect({db!r})
runs = conn.execute(
    "SELECT r.id, r.uuid, r.name, e.name, r.status, r.started_at, r.ended_at FROM runs r "
    "JOIN experiments e ON e.id = r.experiment_id ORDER BY r.started_at DESC").fetchall()
params, lasts = {{}}, {{}}
for run_id, key, value in conn.execute("SELECT run_id, key, value FROM params"):
    params.setdefault(run_id, {{}})[key] = value
for run_id, name, last in conn.execute(
        "SELECT s.run_id, k.name, s.last FROM metric_summary s "
        "JOIN metric_keys k ON k.id = s.key_id"):
    lasts.setdefault(run_id, {{}})[name] = last
out = sys.stdout
for run_id, uuid, name, exp, status, started, ended in runs:
    p, m = params.get(run_id, {{}}), lasts.get(run_id, {{}})
    out.write("\\t".join(map(str, (uuid[:8], name, exp, status, started, ended - started,
                                  *p.values(), *m.values()))) + "\\n")
"""


def _runtui() -> list[str]:
    script = Path(sys.executable).parent / "runtui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "runtui"]


def _median_wall(command: list[str], pycache: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("RUNTUI_STORE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for _ in range(REPEAT + 1):  # the first run fills the bytecode cache
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{command} failed: {done.stderr.decode()[-2000:]}")
    return statistics.median(times[1:])


def run(quick: bool) -> list[Row]:
    runs = 1_000 if quick else 10_000
    with temp_dir() as tmp:
        store = build_store(tmp / "store", runs=runs, points_per_metric=10)
        ls = [*_runtui(), "--store", str(store), "ls"]
        pycache = tmp / "pycache"
        table = _median_wall(ls, pycache)
        as_csv = _median_wall([*ls, "--format", "csv"], pycache)
        as_json = _median_wall([*ls, "--format", "json"], pycache)
        raw = _median_wall([sys.executable, "-c", RAW.format(db=str(store / "runtui.db"))], pycache)
        help_time = _median_wall([*_runtui(), "--help"], pycache)
    return [
        Row(f"runtui ls, {runs:,} runs (table)", table, "s", raw, "< 0.5 s", table < 0.5),
        Row("runtui ls --format csv", as_csv, "s", raw, "< 0.5 s", as_csv < 0.5),
        Row("runtui ls --format json", as_json, "s", raw, "< 0.5 s", as_json < 0.5),
        Row("runtui --help (start-up floor)", help_time, "s"),
    ]


if __name__ == "__main__":
    raise SystemExit(main(run, "ls (bench_ls)", baseline="python+sqlite3"))
