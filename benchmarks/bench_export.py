"""``runtui export --what metrics`` to CSV against plain ``sqlite3`` + ``csv.writer``.

A store of 100 runs x 4 metrics x 25,000 steps (10,000,000 points; quick:
400,000) is written through runtui's writer functions. Then, each in a fresh
interpreter:

(a) ``runtui export --what metrics -o FILE`` (the CLI entry point, in
    process, with its default worker processes: one per CPU), rows/s and
    peak RSS;
(b) the plain way: one SQL query over the same tables producing the same
    rows (same short ids, metric names, ISO 8601 UTC timestamps formatted by
    SQLite, ``nan`` for NaN) handed to ``csv.writer.writerows``; the two
    files must have the same number of lines and bytes;
(c) memory stays flat: the same export of a tenth of the runs (``--filter``)
    must peak within 16 MiB of the full one, in the exporting process and
    in its largest worker;
(d) for information, JSON lines from the same store, and the CSV export
    again in one process (``--jobs 1``).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.big_stores import build_store
from benchmarks.common import RESULT_PREFIX, Row, main, run_python, temp_dir
from runtui.services.metrics_text import worker_count

MIB = 1 << 20

_REPORT = f"""
import json as _json
def _report(result):
    print({RESULT_PREFIX!r} + _json.dumps(result), flush=True)
"""

RUNTUI_CHILD = (
    _REPORT
    + """
import time
from runtui.cli.main import main
t0 = time.perf_counter()
try:
    main({args!r}, standalone_mode=False)
finally:
    elapsed = time.perf_counter() - t0
import resource
worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # the largest worker
_report({{"elapsed": elapsed, "peak_rss": _peak_rss(), "worker_rss": worker}})
"""
)

RAW_CHILD = (
    _REPORT
    + """
import csv, sqlite3, time
t0 = time.perf_counter()
conn = sqlite3.connect({db!r})
cursor = conn.execute(
    "SELECT substr(r.uuid, 1, 8), k.name, m.step, "
    "strftime('%Y-%m-%dT%H:%M:%fZ', r.started_at + m.t / 1000.0, 'unixepoch'), "
    "coalesce(m.value, 'nan') "
    "FROM metrics m JOIN runs r ON r.id = m.run_id JOIN metric_keys k ON k.id = m.key_id"
)
with open({out!r}, "w", newline="") as f:
    writer = csv.writer(f, lineterminator="\\n")
    writer.writerow(["run", "key", "step", "timestamp", "value"])
    writer.writerows(cursor)
_report({{"elapsed": time.perf_counter() - t0, "peak_rss": _peak_rss()}})
"""
)


def _lines_and_bytes(path: Path) -> tuple[int, int]:
    lines = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            lines += chunk.count(b"\n")
    return lines, path.stat().st_size


def run(quick: bool) -> list[Row]:
    runs, steps = (40, 2_500) if quick else (100, 25_000)
    points = runs * steps * 4
    with temp_dir() as tmp:
        store = build_store(tmp / "store", runs=runs, points_per_metric=steps)
        ours, raw = tmp / "runtui.csv", tmp / "raw.csv"
        base = ["--store", str(store), "export", "--what", "metrics"]
        a = run_python(RUNTUI_CHILD.format(args=[*base, "-o", str(ours)]))
        b = run_python(RAW_CHILD.format(db=str(store / "runtui.db"), out=str(raw)))
        ours_shape, raw_shape = _lines_and_bytes(ours), _lines_and_bytes(raw)
        ours.unlink()
        # As many workers as the full export uses (it has enough points for the default).
        jobs = str(worker_count(points, None) or 1)
        tenth = run_python(
            RUNTUI_CHILD.format(
                args=[*base, "--filter", f"seed<{runs // 10}", "--jobs", jobs, "-o", str(ours)]
            )
        )
        ours.unlink()
        jsonl = run_python(RUNTUI_CHILD.format(args=[*base, "--format", "jsonl", "-o", str(ours)]))
        alone = run_python(RUNTUI_CHILD.format(args=[*base, "--jobs", "1", "-o", str(ours)]))
    same = ours_shape == raw_shape and ours_shape[0] == points + 1
    rate, raw_rate = points / a["elapsed"], points / b["elapsed"]
    growth = max(a[k] - tenth[k] for k in ("peak_rss", "worker_rss")) / MIB
    return [
        Row(f"export {points:,} points to CSV", a["elapsed"], "s", b["elapsed"],
            "<= 1.5x raw", a["elapsed"] <= 1.5 * b["elapsed"]),
        Row("  rows/s", rate, "rows/s", raw_rate, ">= 1,000,000 rows/s", rate >= 1_000_000),
        Row("  same lines and bytes as raw", float(same), "", None, "1", same),
        Row("  peak RSS", a["peak_rss"] / MIB, "MiB", b["peak_rss"] / MIB),
        Row("  peak RSS of a worker process", a["worker_rss"] / MIB, "MiB"),
        Row("  peak RSS growth, 10% -> 100% of the points (either)", growth, "MiB", None,
            "<= 16 MiB", growth <= 16),
        Row("export to JSON lines (no bar)", points / jsonl["elapsed"], "rows/s"),
        Row("CSV in one process, --jobs 1 (no bar)", points / alone["elapsed"], "rows/s"),
    ]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main(run, "export (bench_export)", baseline="sqlite3+csv"))
