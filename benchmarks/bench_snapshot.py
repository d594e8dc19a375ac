"""Code snapshots: a 5,000-file, 50 MB tree, against ``cp -r`` of the same tree.

Measured in one process, in this order:

(a) the first snapshot of the tree into an empty store (walk, hash, compress,
    insert), against ``cp -r`` of the same tree timed in the same run; each
    three times (a fresh store, a fresh copy) and the median shown, as single
    runs on a shared 2-core machine swing by half;
(b) a re-snapshot of the unchanged tree, and the blob bytes it added (must
    be 0);
(c) a re-snapshot after editing 10 files: the bytes it added;
(d) the code diff of those two snapshots (changed-file list with line
    counts), and a checkout of the snapshot into an empty folder.

The CPU time of (a) and (b) is printed too: on a busy machine wall times
stretch, CPU times much less.

The files are slices of the Python standard library's own sources (real code
compresses as real code does); every file's content is distinct, so no
deduplication flatters the first snapshot.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Row, main, temp_dir


def _corpus(total: int) -> bytes:
    """At least ``total`` bytes of real Python source (the standard library's)."""
    chunks, size = [], 0
    for path in sorted(Path(os.__file__).parent.rglob("*.py")):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        chunks.append(data)
        size += len(data)
        if size >= total:
            break
    corpus = b"".join(chunks)
    while len(corpus) < total:  # a small stdlib: repeat with a marker so slices stay distinct
        corpus += b"# again %d\n" % len(corpus) + corpus[: total - len(corpus)]
    return corpus


def make_tree(root: Path, files: int, total: int) -> None:
    """``files`` distinct files of real code, last modified an hour ago (as code usually is)."""
    corpus = _corpus(total)
    per = total // files
    an_hour_ago = time.time() - 3600
    for i in range(files):
        folder = root / f"pkg{i % 40}" / f"sub{i % 9}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"mod{i}.py"
        path.write_bytes(corpus[i * per : (i + 1) * per])
        os.utime(path, (an_hour_ago, an_hour_ago))


CPU: dict[str, float] = {}  # CPU seconds (all threads) of the last `_timed` call by label


def _timed(fn, label: str = "") -> tuple[float, object]:
    cpu = time.process_time()
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    CPU[label] = time.process_time() - cpu
    return elapsed, result


def run(quick: bool) -> list[Row]:
    from runtui.services.codediff import diff_snapshots
    from runtui.snapshot.capture import store_tree
    from runtui.snapshot.checkout import restore
    from runtui.snapshot.walk import walk
    from runtui.store import connection

    files, total = (500, 5_000_000) if quick else (5_000, 50_000_000)
    with temp_dir() as tmp:
        tree_dir = tmp / "tree"
        make_tree(tree_dir, files, total)
        cache = tmp / "stat-cache.json"

        def snap(cache_file: Path | None = cache):
            return store_tree(conn, walk(tree_dir), cache_file=cache_file)

        copy = ["cp", "-r", str(tree_dir), str(tmp / "copy")]
        cp_runs, first_runs = [], []
        conn = None
        for _ in range(3):
            cp_runs.append(_timed(lambda: subprocess.run(copy))[0])
            shutil.rmtree(tmp / "copy")
            if conn is not None:  # a fresh store and stat cache each time; the last one stays
                conn.close()
                shutil.rmtree(tmp / "store")
                cache.unlink(missing_ok=True)
            conn = connection.connect(tmp / "store", create=True)
            first_s, first = _timed(snap, "first")
            first_runs.append((first_s, CPU["first"]))
        cp_s = statistics.median(cp_runs)
        first_s = statistics.median(wall for wall, _ in first_runs)
        CPU["first"] = statistics.median(cpu for _, cpu in first_runs)
        again_s, again = _timed(snap, "again")
        uncached_s, _ = _timed(lambda: snap(None))
        edited = sorted(tree_dir.rglob("*.py"))[:: files // 10][:10]
        for path in edited:
            path.write_bytes(path.read_bytes() + b"\n# edited\n")
        edit_s, edit = _timed(snap)
        diff_s, diff = _timed(lambda: diff_snapshots(conn, first.snapshot_id, edit.snapshot_id))
        checkout_s, _ = _timed(lambda: restore(conn, first.snapshot_id, tmp / "out"))
        conn.close()  # checkpoints the WAL into the database file
        store_mb = (tmp / "store" / "runtui.db").stat().st_size / 1e6
    n = f"{files:,} files, {total / 1e6:.0f} MB"
    first_bar, again_bar = 1.0, 0.3  # the bars are for the full size; --quick only smoke-tests
    diff_ok = diff_s <= 0.1
    rows = [
        Row(
            f"first snapshot ({n}), median of 3",
            first_s,
            "s",
            cp_s,
            f"<= {first_bar} s",
            None if quick else first_s <= first_bar,
        ),
        Row("  its CPU time (all threads), median of 3", CPU["first"], "s"),
        Row("  blob bytes stored (zlib)", first.new_blob_bytes / 1e6, "MB", total / 1e6),
        Row(
            "unchanged re-snapshot",
            again_s,
            "s",
            cp_s,
            f"<= {again_bar} s",
            None if quick else again_s <= again_bar,
        ),
        Row("  its CPU time", CPU["again"], "s"),
        Row("  new blob bytes", again.new_blob_bytes, "B", None, "= 0", again.new_blob_bytes == 0),
        Row("  same, without the stat cache (reads every file)", uncached_s, "s", cp_s),
        Row("re-snapshot after editing 10 files", edit_s, "s", cp_s),
        Row("  new blob bytes", edit.new_blob_bytes / 1e3, "KB"),
        Row(
            f"code diff, {len(diff.changes)} files", diff_s * 1e3, "ms", None, "<= 100 ms", diff_ok
        ),
        Row("checkout of the first snapshot", checkout_s, "s", cp_s),
        Row("store file size after 3 snapshots", store_mb, "MB", total / 1e6),
    ]
    return rows


if __name__ == "__main__":
    raise SystemExit(main(run, "code snapshots (bench_snapshot)", baseline="cp -r"))
