"""The main screen at 10,000 runs / 10,000,000 points: start-up, filtering, memory.

Each store is opened in a fresh interpreter running the real app headless
(``run_test`` at 160×45). Measured there:

* start: from constructing the app to the first paint of the runs table
  with rows in it (median of several opens in one process; the first also
  parses the CSS), at 10,000 runs and at 10 runs — the bar is < 1 s and not
  meaningfully slower than 10 runs;
* filter: typing a query one key at a time into the `/` bar, the wall time
  from each key press to the paint of the table showing that query's runs
  (keys whose prefix does not parse show an error instead and are not
  counted), median and worst;
* memory: the child's peak RSS after opening and filtering.

Baselines in the same run: raw ``sqlite3`` doing what a page of the table
needs (ordered ids of the view, then the visible rows with their params and
metric summaries), for the unfiltered view and for the filter's SQL.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
from pathlib import Path

from benchmarks.big_stores import build_store
from benchmarks.common import Row, main, run_python, temp_dir

QUERY = "lr>=0.001 run-12"
PAGE = 43  # visible rows at 160×45
BAR_START_S = 1.0
BAR_FILTER_MS = 50.0
BAR_RSS_MB = 300.0
SLOWER_THAN_SMALL = 1.5  # "not meaningfully slower" than with 10 runs

CHILD = r"""
import asyncio, json, statistics, time
from pathlib import Path
from runtui.query import compile_filter
from runtui.tui.app import RuntuiApp
from runtui.tui.widgets.runs_table import RunsTable

STORE = Path(STORE)
painted = {}
original = RunsTable.render_lines

def render_lines(self, crop):
    lines = original(self, crop)
    if len(self.source) and self.source.view.filter == painted.get("want", ""):
        painted.setdefault("at", time.perf_counter())
    return lines

RunsTable.render_lines = render_lines

def parses(text):
    try:
        compile_filter(text)
        return True
    except Exception:
        return False

async def wait_painted(timeout=5.0):
    end = time.perf_counter() + timeout
    while "at" not in painted and time.perf_counter() < end:
        await asyncio.sleep(0.0005)
    return painted.get("at")

async def measure():
    starts, keys = [], []
    for i in range(OPENS):
        painted.clear()
        t0 = time.perf_counter()
        app = RuntuiApp(STORE)
        async with app.run_test(size=(160, 45)) as pilot:
            at = await wait_painted()
            starts.append(at - t0)
            if i == OPENS - 1:
                await pilot.press("slash")
                await pilot.pause()
                for n in range(1, len(QUERY) + 1):
                    text = QUERY[:n]
                    painted.clear()
                    painted["want"] = text
                    t0 = time.perf_counter()
                    await pilot.press(QUERY[n - 1] if QUERY[n - 1] != " " else "space")
                    at = await wait_painted(1.0 if parses(text) else 0.0)
                    if parses(text) and at is not None:
                        keys.append(at - t0)
                shown = len(app.screen.query_one(RunsTable).source)
            await pilot.press("escape", "q")
    return starts, keys, shown

starts, keys, shown = asyncio.run(measure())
print("BENCH-RESULT " + json.dumps({
    "start_first": starts[0], "start": statistics.median(starts[1:] or starts),
    "keys": keys, "shown": shown, "rss": _peak_rss(),
}))
"""


def _raw_page(db: Path, where: str, args: list[object]) -> float:
    """Raw sqlite3: the ordered ids of a view, then one page of rows with params and summaries."""
    conn = sqlite3.connect(db)
    start = time.perf_counter()
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id "
            f"WHERE {where} ORDER BY r.started_at DESC, r.id DESC",
            args,
        )
    ]
    page = ids[:PAGE]
    marks = ",".join("?" * len(page))
    conn.execute(f"SELECT * FROM runs WHERE id IN ({marks})", page).fetchall()
    conn.execute(f"SELECT * FROM params WHERE run_id IN ({marks})", page).fetchall()
    conn.execute(
        "SELECT s.*, k.name FROM metric_summary s JOIN metric_keys k ON k.id = s.key_id "
        f"WHERE s.run_id IN ({marks})",
        page,
    ).fetchall()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _raw_median(db: Path, where: str, args: list[object], repeat: int = 7) -> float:
    return statistics.median(_raw_page(db, where, args) for _ in range(repeat))


def _open(store: Path, opens: int) -> dict:
    """Open the app on ``store`` in a fresh interpreter; what `CHILD` reports."""
    settings = f"STORE = {json.dumps(str(store))}\nQUERY = {json.dumps(QUERY)}\nOPENS = {opens}\n"
    return run_python(settings + CHILD, timeout=900)


def run(quick: bool) -> list[Row]:
    from runtui.query import compile_filter

    runs, points_per_metric = (1_000, 25) if quick else (10_000, 250)  # 4 metrics per run
    with temp_dir() as tmp:
        small = build_store(tmp / "small", runs=10, points_per_metric=points_per_metric)
        built = time.perf_counter()
        big = build_store(tmp / "big", runs=runs, points_per_metric=points_per_metric)
        built = time.perf_counter() - built
        print(f"built {runs:,} runs / {runs * 4 * points_per_metric:,} points in {built:.0f} s")
        small_result = _open(small, 4)
        big_result = _open(big, 4)
        raw_open = _raw_median(big / "runtui.db", "1", [])
        sql, args = compile_filter(QUERY)
        raw_filter = _raw_median(big / "runtui.db", sql, list(args))

    size = f"{runs:,} runs"
    start, small_start = big_result["start"], small_result["start"]
    keys = big_result["keys"]
    key_median, key_worst = statistics.median(keys), max(keys)
    rss_mb = big_result["rss"] / 2**20
    return [
        Row(f"start → runs table, {size} (first open)", big_result["start_first"], "s",
            small_result["start_first"], f"< {BAR_START_S:g} s",
            big_result["start_first"] < BAR_START_S),
        Row(f"start → runs table, {size} (vs 10 runs)", start, "s", small_start,
            f"< {BAR_START_S:g} s, ≤ {SLOWER_THAN_SMALL}x",
            start < BAR_START_S and start <= SLOWER_THAN_SMALL * small_start + 0.02),
        Row(f"first page of {size} (vs raw sqlite)", start, "s", raw_open, "-", None),
        Row(f"filter key → table, median ({len(keys)} keys)", key_median * 1e3, "ms",
            raw_filter * 1e3, f"< {BAR_FILTER_MS:g} ms", key_median * 1e3 < BAR_FILTER_MS),
        Row("filter key → table, worst", key_worst * 1e3, "ms", raw_filter * 1e3, "-", None),
        Row(f"peak RSS, {size} (vs 10 runs)", rss_mb, "MB", small_result["rss"] / 2**20,
            f"< {BAR_RSS_MB:g} MB", rss_mb < BAR_RSS_MB),
    ]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main(run, "TUI main screen (bench_tui)", baseline="baseline"))
