"""The compare screen's code diff: two snapshots of 5,000 files with 10 changed.

Measured in one process:

(a) the changed-file list with line counts (`codediff.diff_runs`), against
    one raw SQLite query listing the paths whose entries differ (the least
    any implementation must do);
(b) in the headless TUI, from pressing ``3`` on an open compare screen to
    the first frame painted with the first file's diff in it (the screen
    starts reading the code diff in a thread when it opens); and from
    opening the screen and pressing ``3`` at once. The baseline is pressing
    ``4`` (the Environment tab, no code work) on an open screen: what any
    tab switch costs.

Each figure is the median of several runs (a full garbage collection, 0.1-0.25 s
on a 2-core machine, lands in some of them: the mean time the collector took is
shown); the files are slices of the standard library's sources, each about 2 KB
(`bench_snapshot.make_tree`).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_snapshot import make_tree
from benchmarks.common import Row, main, median_time, temp_dir

FILES, CHANGED = 5000, 10
LIST_BAR_MS, FIRST_DIFF_BAR_MS = 100, 200


def build(folder: Path, files: int) -> tuple[Path, list[str]]:
    """A store with two runs whose snapshots differ in ``CHANGED`` files; (store, uuids)."""
    from runtui.snapshot.capture import store_tree
    from runtui.snapshot.walk import walk
    from runtui.store import connection, writer

    code, store = folder / "code", folder / "store"
    make_tree(code, files, files * 2000)
    conn = connection.connect(store, create=True)
    first = store_tree(conn, walk(code)).snapshot_id
    for path in sorted(code.rglob("*.py"))[:: files // CHANGED][:CHANGED]:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        text[len(text) // 2 : len(text) // 2] = ["# changed between the two runs\n"] * 3
        path.write_text("".join(text[:-1]), encoding="utf-8")
    second = store_tree(conn, walk(code)).snapshot_id
    uuids = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in (1, 2)]

    def write(c):  # type: ignore[no-untyped-def]
        for i, (uuid, snapshot) in enumerate(zip(uuids, (first, second), strict=True)):
            fields = {"uuid": uuid, "name": f"run-{i}", "status": "completed"}
            fields |= {"started_at": 1_700_000_000.0 + i, "snapshot_id": snapshot}
            writer.insert_run(c, "bench", fields)

    connection.write_transaction(conn, write)
    conn.close()
    return store, uuids


def changed_paths_sql(conn, old: int, new: int) -> list[str]:  # type: ignore[no-untyped-def]
    rows = conn.execute(
        "SELECT path FROM (SELECT path, hash, mode, link FROM snapshot_files WHERE snapshot_id = ? "
        "EXCEPT SELECT path, hash, mode, link FROM snapshot_files WHERE snapshot_id = ?) "
        "UNION SELECT path FROM (SELECT path, hash, mode, link FROM snapshot_files "
        "WHERE snapshot_id = ? EXCEPT SELECT path, hash, mode, link FROM snapshot_files "
        "WHERE snapshot_id = ?) ORDER BY path",
        (old, new, new, old),
    ).fetchall()
    return [r[0] for r in rows]


MARKER = "changed between the two runs"  # in every changed file's diff (see `build`)
ENV_MARKER = "python"  # a row of the Environment tab's table


def frame_text(update: object) -> str:
    """The characters of one frame the compositor produced (a full layout or changed chops)."""
    from textual._compositor import ChopsUpdate, LayoutUpdate

    if isinstance(update, LayoutUpdate):
        return "\n".join("".join(strip.text for strip in line) for line in update.strips)
    if isinstance(update, ChopsUpdate):
        return "\n".join(
            strip.text for chop in update.chops for strip in chop.values() if strip is not None
        )
    return ""


async def tab_times(store: Path, uuids: list[str], repeat: int) -> dict[str, list[float]]:
    """Seconds from the key press to the frame that puts the tab's content on screen.

    "open+3": the screen is pushed and ``3`` pressed at once (the code diff
    is still being read; timed from the push); "3": ``3`` pressed on a
    screen open for a second; "4": the Environment tab instead (no code
    work: the baseline). The key is posted to the app as a terminal's would
    be (no pilot wait for animations), and the clock stops at the first
    frame the compositor renders, and turns into terminal output, whose
    characters include the diff's changed line (or the Environment table).
    Keys ending in " cpu" hold the process's CPU time for the same span,
    " gc" the time Python's garbage collector ran in it.
    """
    from textual import events
    from textual.app import App

    from runtui.tui.screens.compare import CompareScreen

    frames: list[tuple[float, float, object]] = []
    collections: list[tuple[float, float]] = []  # (start, end) of each garbage collection

    def on_gc(phase: str, info: dict) -> None:  # type: ignore[type-arg]
        if phase == "start":
            collections.append((time.perf_counter(), 0.0))
        elif collections:
            collections[-1] = (collections[-1][0], time.perf_counter())

    gc.callbacks.append(on_gc)
    app: App = App()  # type: ignore[type-arg]
    original = app._display

    def display(screen, update) -> None:  # type: ignore[no-untyped-def]
        original(screen, update)
        if update is not None:  # the headless driver writes nothing: make the output anyway
            update.render_segments(app.console)
            frames.append((time.perf_counter(), time.process_time(), update))

    app._display = display  # type: ignore[method-assign]

    async def until_painted(marker: str, start: float) -> tuple[float, float]:
        deadline = time.perf_counter() + 30
        seen = 0
        while time.perf_counter() < deadline:
            for wall, cpu, update in frames[seen:]:
                if marker in frame_text(update):
                    return wall, cpu
            seen = len(frames)
            await asyncio.sleep(0.001)
        raise TimeoutError(f"{marker!r} never painted")

    times: dict[str, list[float]] = {
        k: [] for k in ("open+3", "3", "4", "3 cpu", "4 cpu", "3 gc", "4 gc")
    }
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(repeat):
            for scenario, key, marker in (
                ("open+3", "3", MARKER),
                ("3", "3", MARKER),
                ("4", "4", ENV_MARKER),
            ):
                start, cpu = time.perf_counter(), time.process_time()
                frames.clear()
                collections.clear()
                app.push_screen(CompareScreen(store, uuids))
                if scenario != "open+3":
                    await pilot.pause(1.0)
                    start, cpu = time.perf_counter(), time.process_time()
                    frames.clear()
                app.post_message(events.Key(key, key))
                wall_end, cpu_end = await until_painted(marker, start)
                times[scenario].append(wall_end - start)
                times.setdefault(f"{scenario} cpu", []).append(cpu_end - cpu)
                in_gc = sum(b - a for a, b in collections if a >= start and b <= wall_end)
                times.setdefault(f"{scenario} gc", []).append(in_gc)
                app.pop_screen()
                await pilot.pause(0.5)
    gc.callbacks.remove(on_gc)
    return times


def run(quick: bool) -> list[Row]:
    from runtui.services.codediff import diff_runs
    from runtui.store.reader import open_store

    files = 500 if quick else FILES
    repeat = 3 if quick else 7
    with temp_dir() as folder:
        store_path, uuids = build(folder, files)
        with open_store(store_path, readonly=True) as store:
            a, b = (store.run(u) for u in uuids)
            assert a.snapshot_id is not None and b.snapshot_id is not None
            diff = diff_runs(store, a, b)
            list_s = median_time(lambda: diff_runs(store, a, b), repeat)
            sql_s = median_time(
                lambda: changed_paths_sql(store.conn, a.snapshot_id, b.snapshot_id), repeat
            )
            assert len(changed_paths_sql(store.conn, a.snapshot_id, b.snapshot_id)) == len(
                diff.changes
            )
        times = asyncio.run(tab_times(store_path, uuids, repeat))
    first_ms = statistics.median(times["3"]) * 1e3
    return [
        Row(
            f"changed-file list, {len(diff.changes)} of {files} files, with line counts",
            list_s * 1e3,
            "ms",
            sql_s * 1e3,
            f"<= {LIST_BAR_MS} ms",
            None if quick else list_s * 1e3 <= LIST_BAR_MS,
        ),
        Row(
            "TUI: compare screen open, key 3 -> first diff on screen",
            first_ms,
            "ms",
            statistics.median(times["4"]) * 1e3,
            f"<= {FIRST_DIFF_BAR_MS} ms",
            None if quick else first_ms <= FIRST_DIFF_BAR_MS,
        ),
        Row(
            "  its CPU time (baseline: key 4, the Environment tab)",
            statistics.median(times["3 cpu"]) * 1e3,
            "ms",
            statistics.median(times["4 cpu"]) * 1e3,
        ),
        Row("  worst of the runs", max(times["3"]) * 1e3, "ms"),
        Row(
            "  of which Python's garbage collector (mean of the runs)",
            statistics.mean(times["3 gc"]) * 1e3,
            "ms",
            statistics.mean(times["4 gc"]) * 1e3,
        ),
        Row(
            "TUI: open compare and press 3 at once -> first diff",
            statistics.median(times["open+3"]) * 1e3,
            "ms",
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(
        main(run, "compare: code diff of two runs (bench_compare)", baseline="raw sqlite / key 4")
    )
