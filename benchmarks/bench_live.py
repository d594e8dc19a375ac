"""The live change feed: how soon it delivers what another process wrote, and what it costs.

Measured in this process (the feed runs in a thread, as in the TUI) against
writer processes on the same store:

(a) latency from a write to the feed delivering it, for a log line appended
    to a run's log, a metric point committed to the database, and a new run
    committed; the writer stamps each with ``time.time()`` just before
    writing (wall clock is shared by processes on one host). Writes are
    spaced 50-150 ms apart at random, so they do not line up with the
    feed's 250 ms tick. End to end through ``run.log`` adds the logger's
    batching (a flush every 0.5 s) on top; that is reported separately.
(b) CPU of the feed (this process: Python and the watcher's Rust thread)
    over an idle period, with a followed log and watched metrics that do
    not change;
(c) CPU of the feed while 4 runs each log 10 points/s and print 10 lines/s,
    all 4 logs followed and all 4 runs' points watched.
(d) the whole TUI (headless, in a fresh interpreter): the latency of (a)
    measured on screen (a stamped line in the Logs tab's widget, a stamped
    point in the Metrics tab's summaries, a new run in the runs table under
    the run screen), and its CPU showing the runs table, idle and while the
    4 runs above write.

The feed's baseline is the same feed driven by its ``PRAGMA data_version``
tick alone (no file events; what happens on a network filesystem); the
TUI's is the same TUI with live updates stopped.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import REPO, RESULT_PREFIX, Row, print_table, temp_dir
from runtui.live import ChangeFeed, Changes

LATENCY_CHILD = r"""
import random, sys, time, uuid as uuidlib
from pathlib import Path
import runtui
from runtui.store import connection, location, writer

store = Path(sys.argv[1]); n = int(sys.argv[2]); through_logger = int(sys.argv[3])
run = runtui.start_run("bench", name="target", snapshot=False, capture_output=False, store=store)
conn = connection.connect(store)
row = writer.run_row_id(conn, run.uuid)
key = connection.write_transaction(conn, lambda c: writer.intern_metric_keys(c, ["stamp"]))["stamp"]
log_file = location.log_path(store, run.uuid)
log_file.parent.mkdir(parents=True, exist_ok=True)
log = open(log_file, "ab", buffering=0)
print(run.uuid, flush=True)
sys.stdin.readline()
for i in range(n):
    time.sleep(random.uniform(0.05, 0.15))
    kind = i % 3
    if kind == 0:
        log.write(b"t=%r\n" % time.time())
    elif kind == 1:
        def point(c, i=i):
            now = time.time()
            writer.write_points(c, row, {key: writer.Column([i], [0], [now])})
            writer.heartbeat(c, row, now)
        connection.write_transaction(conn, point)
    else:
        fields = {"uuid": str(uuidlib.uuid4()), "name": f"new-{i}", "status": "completed",
                  "started_at": time.time()}
        connection.write_transaction(conn, lambda c: writer.insert_run(c, "bench", fields))
for _ in range(through_logger):
    run.log("through_logger", time.time())
    time.sleep(0.7)
run.finish()
print("done", flush=True)
"""

LOAD_CHILD = r"""
import sys, time
import runtui
run = runtui.start_run("load", snapshot=False, store=sys.argv[1])
sys.__stderr__.write(run.uuid + "\n"); sys.__stderr__.flush()
end = time.time() + float(sys.argv[2])
i = 0
while time.time() < end:
    run.log("loss", 1.0 / (i + 1))
    print(f"step {i} loss {1.0 / (i + 1):.5f}", flush=True)
    i += 1
    time.sleep(0.1)
run.finish()
"""


TUI_CHILD = r"""
import asyncio, json, sys, time
from pathlib import Path
from runtui.tui.app import RuntuiApp
store, seconds, live = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"

async def main():
    app = RuntuiApp(store)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause(1.0)
        if not live:
            app.live.stop()
        await pilot.pause(1.0)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(PREFIX + json.dumps({"cpu": 100 * cpu / wall}), flush=True)

asyncio.run(main())
"""


TUI_LATENCY_CHILD = r"""
import asyncio, json, sys, time
from pathlib import Path
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.run import RunScreen
from runtui.tui.widgets.log_view import LogView
from runtui.tui.widgets.metrics_view import MetricsView
store, uuid, seconds = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])

async def main():
    got = {"log": [], "point": [], "run": []}
    app = RuntuiApp(store)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause(0.5)
        table = app.screen.source
        app.push_screen(RunScreen(store, uuid))
        await pilot.pause(0.5)
        await pilot.press("2")
        await pilot.pause(0.5)
        log = app.screen.query_one(LogView).log
        metrics = app.screen.query_one(MetricsView)
        seen_lines, seen_count, seen_runs = len(log.lines), 0, set()
        print("ready", flush=True)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await asyncio.sleep(0.005)
            now = time.time()
            lines = log.lines
            got["log"].extend(now - float(t[2:]) for t in lines[seen_lines:] if t.startswith("t="))
            seen_lines = len(lines)
            stamp = metrics.summaries.get("stamp")
            if stamp is not None and stamp.count != seen_count:
                got["point"].append(now - stamp.last)
                seen_count = stamp.count
            if len(table) != len(seen_runs) + 1:
                for record in table.records(0, len(table)):
                    if record.name.startswith("new-") and record.uuid not in seen_runs:
                        got["run"].append(now - record.started_at)
                        seen_runs.add(record.uuid)
    print(PREFIX + json.dumps(got), flush=True)

asyncio.run(main())
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def _drive(
    feed: ChangeFeed, deliver: Callable, stop: threading.Event, ticks_only: bool
) -> threading.Thread:
    """Run the feed in a thread: normally, or on its data_version tick alone (the baseline)."""
    from runtui.live.watcher import Wake

    def ticks() -> None:
        feed.mode = "polling"  # followed logs are checked by size on every tick
        while not stop.wait(feed.interval):
            changes = feed.check(Wake())
            if changes:
                deliver(changes)

    thread = threading.Thread(
        target=ticks if ticks_only else feed.run, args=() if ticks_only else (deliver, stop)
    )
    thread.start()
    return thread


def measure_latency(n: int, ticks_only: bool) -> dict[str, list[float]]:
    got: dict[str, list[float]] = {"log": [], "point": [], "run": [], "logger": []}
    with temp_dir() as tmp:
        store = tmp / "store"
        child = subprocess.Popen(
            [sys.executable, "-c", LATENCY_CHILD, str(store), str(n), str(max(3, n // 10))],
            env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert child.stdout is not None and child.stdin is not None
        uuid = child.stdout.readline().strip()
        feed = ChangeFeed(store)
        feed.follow_log(uuid)
        feed.watch_points(uuid, after={})
        feed.open()

        def deliver(changes: Changes) -> None:
            now = time.time()
            update = changes.logs.get(uuid)
            for line in update.lines if update else []:
                got["log"].append(now - float(line[2:]))
            for name, points in changes.points.get(uuid, {}).items():
                bucket = got["point"] if name == "stamp" else got["logger"]
                bucket.extend(now - value for _step, _t, value in points)
            got["run"].extend(now - r.started_at for r in changes.new_runs)

        stop = threading.Event()
        thread = _drive(feed, deliver, stop, ticks_only)
        time.sleep(0.5)
        child.stdin.write("go\n")
        child.stdin.flush()
        child.stdout.readline()
        time.sleep(0.5)
        stop.set()
        thread.join()
        feed.close()
        child.wait()
    return got


def measure_tui_latency(n: int) -> dict[str, list[float]]:
    """Latencies from the writer to the TUI's widgets (the Logs tab of the target run open)."""
    with temp_dir() as tmp:
        store = tmp / "store"
        writer = subprocess.Popen(
            [sys.executable, "-c", LATENCY_CHILD, str(store), str(n), "0"],
            env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert writer.stdout is not None and writer.stdin is not None
        uuid = writer.stdout.readline().strip()
        code = f"PREFIX = {RESULT_PREFIX!r}\n" + TUI_LATENCY_CHILD
        tui = subprocess.Popen(
            [sys.executable, "-c", code, str(store), uuid, str(n * 0.15 + 2)],
            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert tui.stdout is not None
        if tui.stdout.readline().strip() != "ready":
            raise RuntimeError(f"TUI child failed:\n{tui.communicate()[1][-3000:]}")
        writer.stdin.write("go\n")
        writer.stdin.flush()
        writer.wait()
        out, err = tui.communicate(timeout=n + 60)
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"TUI child failed:\n{err[-3000:]}")


def _start_writers(store: Path, writers: int, duration: float) -> tuple[list, list[str]]:
    """Start ``writers`` LOAD_CHILD processes (at least one, finished at once when 0)."""
    command = [sys.executable, "-c", LOAD_CHILD, str(store), str(duration if writers else 0.5)]
    children = [
        subprocess.Popen(
            command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(max(writers, 1))
    ]
    uuids = [c.stderr.readline().strip() for c in children]  # type: ignore[union-attr]
    if not writers:
        for child in children:
            child.wait()
    return children, uuids


def measure_tui_cpu(seconds: float, writers: int, live: bool) -> float:
    """CPU % of one core used by the whole TUI (headless) over ``seconds``."""
    with temp_dir() as tmp:
        store = tmp / "store"
        children, _uuids = _start_writers(store, writers, seconds + 6)
        code = f"PREFIX = {RESULT_PREFIX!r}\n" + TUI_CHILD
        done = subprocess.run(
            [sys.executable, "-c", code, str(store), str(seconds), "1" if live else "0"],
            env=_env(), capture_output=True, text=True, timeout=seconds + 120,
        )  # fmt: skip
        for child in children:
            child.wait()
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])["cpu"]
    raise RuntimeError(f"TUI child failed:\n{done.stderr[-3000:]}")


def measure_cpu(seconds: float, writers: int, ticks_only: bool) -> tuple[float, int]:
    """(CPU % of one core used by the feed, log lines delivered) over ``seconds``."""
    with temp_dir() as tmp:
        store = tmp / "store"
        duration = seconds + 3
        children, uuids = _start_writers(store, writers, duration)
        feed = ChangeFeed(store)
        for uuid in uuids:
            feed.follow_log(uuid)
            feed.watch_points(uuid)
        lines = 0

        def deliver(changes: Changes) -> None:
            nonlocal lines
            lines += sum(len(u.lines) for u in changes.logs.values())

        stop = threading.Event()
        thread = _drive(feed, deliver, stop, ticks_only)
        time.sleep(1.0)  # settle: subscriptions taken, first reads done
        lines = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        time.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        stop.set()
        thread.join()
        feed.close()
        for child in children:
            child.wait()
    return 100 * cpu / wall, lines


def _median_max(values: list[float]) -> tuple[float | None, float | None]:
    return (statistics.median(values) * 1000, max(values) * 1000) if values else (None, None)


def feed_rows(quick: bool) -> list[Row]:
    n = 15 if quick else 150
    seconds = 2.0 if quick else 10.0
    events = measure_latency(n, ticks_only=False)
    empty: dict[str, list[float]] = {"log": [], "point": [], "run": []}
    ticks = empty if quick else measure_latency(n, ticks_only=True)  # --quick: no baselines
    rows: list[Row] = []
    for kind, label, bar_ms in (
        ("log", "log line", 300),
        ("point", "metric point (from commit)", 300),
        ("run", "new run (from commit)", 1000),
    ):
        med, top = _median_max(events[kind])
        base_med, base_top = _median_max(ticks[kind])
        rows.append(
            Row(f"{label}: median latency (n={len(events[kind])})", med, "ms", base_med,
                f"<= {bar_ms} ms", med is not None and med <= bar_ms)
        )  # fmt: skip
        rows.append(Row(f"{label}: max latency", top, "ms", base_top))
    med, top = _median_max(events["logger"])
    rows.append(Row("point through run.log (0.5 s batches): median", med, "ms"))
    rows.append(Row("point through run.log: max", top, "ms"))
    idle, _ = measure_cpu(seconds, 0, ticks_only=False)
    idle_base = None if quick else measure_cpu(seconds, 0, ticks_only=True)[0]
    rows.append(Row(f"idle CPU over {seconds:.0f} s", idle, "%", idle_base, "< 1 %", idle < 1))
    busy, lines = measure_cpu(seconds, 4, ticks_only=False)
    busy_base = None if quick else measure_cpu(seconds, 4, ticks_only=True)[0]
    rows.append(
        Row("CPU, 4 runs x (10 points/s + 10 lines/s)", busy, "%", busy_base, "< 15 %", busy < 15)
    )
    rows.append(Row(f"log lines delivered in {seconds:.0f} s (expect ~{40 * seconds:.0f})", lines))
    return rows


def tui_rows(quick: bool) -> list[Row]:
    seconds = 3.0 if quick else 10.0
    latency = measure_tui_latency(15 if quick else 150)
    rows: list[Row] = []
    for kind, label, bar_ms in (
        ("log", "log line in the Logs tab", 300),
        ("point", "point in the Metrics tab (from commit)", 300),
        ("run", "new run in the runs table (from commit)", 1000),
    ):
        med, top = _median_max(latency[kind])
        rows.append(
            Row(f"{label}: median (n={len(latency[kind])})", med, "ms", None, f"<= {bar_ms} ms",
                med is not None and med <= bar_ms)
        )  # fmt: skip
        rows.append(Row(f"{label}: max", top, "ms"))
    idle = measure_tui_cpu(seconds, 0, live=True)
    idle_base = None if quick else measure_tui_cpu(seconds, 0, live=False)
    busy = measure_tui_cpu(seconds, 4, live=True)
    busy_base = None if quick else measure_tui_cpu(seconds, 4, live=False)
    return [
        *rows,
        Row(f"TUI idle CPU over {seconds:.0f} s", idle, "%", idle_base, "< 1 %", idle < 1),
        Row("TUI CPU, 4 runs x (10 points/s + 10 lines/s)", busy, "%", busy_base, "< 15 %",
            busy < 15),
    ]  # fmt: skip


if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:] or os.environ.get("RUNTUI_BENCH_QUICK") == "1"
    suffix = " (--quick sizes)" if quick else ""
    rows = feed_rows(quick)
    print_table("live feed (bench_live)" + suffix, rows, baseline="tick only")
    more = tui_rows(quick)
    print_table("live TUI (bench_live)" + suffix, more, baseline="live off")
    raise SystemExit(1 if any(row.ok is False for row in rows + more) else 0)
