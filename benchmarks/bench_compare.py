"""The compare screen's code diff: two snapshots of 5,000 files with 10 changed.

Measured in one process:

(a) the changed-file list with line counts (`codediff.diff_runs`), against
    one raw SQLite query listing the paths whose entries differ (the least
    any implementation must do);
(b) in the headless TUI, from pressing ``3`` on an open compare screen to
    the first file's diff being on screen (the screen starts reading the
    code diff in a thread when it opens); and from opening the screen and
    pressing ``3`` at once. The baseline is pressing ``4`` (the Environment
    tab, no code work) on an open screen: what any tab switch costs.

Each figure is the median of several runs; the files are slices of the
standard library's sources, each about 2 KB (`bench_snapshot.make_tree`).
"""

from __future__ import annotations

import asyncio
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


async def tab_times(store: Path, uuids: list[str], repeat: int) -> dict[str, list[float]]:
    """Seconds to the first diff (or the Environment table) on screen, per scenario.

    "open+3": the screen is opened and ``3`` pressed at once (the code diff
    is still being read); "3": ``3`` pressed on a screen open for a second;
    "4": the Environment tab instead (no code work: the baseline). Keys
    ending in " cpu" hold the process's CPU time for the same presses.
    """
    from textual.app import App

    from runtui.tui.screens.compare import CompareScreen
    from runtui.tui.widgets.compare_code import CompareCode

    def code_drawn(app: App) -> bool:  # type: ignore[type-arg]
        return any(c.shown and c.diff_view.lines for c in app.screen.query(CompareCode))

    def env_drawn(app: App) -> bool:  # type: ignore[type-arg]
        return bool(app.screen.query("#cmp-env-view DataTable"))

    times: dict[str, list[float]] = {k: [] for k in ("open+3", "3", "4", "3 cpu", "4 cpu")}
    app: App = App()  # type: ignore[type-arg]
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(repeat):
            for scenario, key, ready in (
                ("open+3", "3", code_drawn),
                ("3", "3", code_drawn),
                ("4", "4", env_drawn),
            ):
                start = time.perf_counter()
                await app.push_screen(CompareScreen(store, uuids))
                if scenario != "open+3":
                    await pilot.pause(1.0)
                    start = time.perf_counter()
                cpu = time.process_time()
                await pilot.press(key)
                while not ready(app):
                    await asyncio.sleep(0.001)
                await pilot.pause()  # the frame with it is painted
                times[scenario].append(time.perf_counter() - start)
                times.setdefault(f"{scenario} cpu", []).append(time.process_time() - cpu)
                await app.pop_screen()
                await pilot.pause()
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
            "TUI: open compare and press 3 at once -> first diff",
            statistics.median(times["open+3"]) * 1e3,
            "ms",
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(
        main(run, "compare: code diff of two runs (bench_compare)", baseline="raw sqlite / key 4")
    )
