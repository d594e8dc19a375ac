"""The store and the logging module against raw SQLite doing the same work.

Measured, each in fresh interpreters so that one measure's imports, caches
and memory do not colour another's:

(a) ``import runtui`` (median of several cold starts) against ``import
    sqlite3``; proof that textual, rich, watchfiles, pandas and sqlite_utils
    are not loaded after the import nor after a whole start_run / log /
    finish cycle; the cost of the first ``start_run`` (which imports the
    tracking machinery) against opening a database and inserting one row.
(b) the hot loop: 100,000 steps x 3 metrics through ``run.log({...}, step=i)``,
    timed from ``start_run`` until ``finish()`` returns with everything
    durable, against ``executemany`` of the same 300,000 rows in 1000-row
    transactions (WAL) into a table of the same shape, values computed in the
    same loop.
(c) 200 runs x 5 params x 3 metrics x 500 steps created, logged and finished,
    against raw inserts of the same runs, params and points; then listing the
    200 runs with params and last values (``Store.runs()``) and reading 50
    full histories (``Store.history``), against the same SQL over the same
    file returning plain tuples.
(d) bytes on disk per point (database + WAL after a checkpoint) and the peak
    RSS of the logging process above a bare interpreter's.

The children run in a scratch folder outside any git checkout, so
``start_run`` pays for one failing ``git`` call, as in a plain folder.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULT_PREFIX, Row, main, run_python, temp_dir

HEAVY = ("textual", "rich", "watchfiles", "pandas", "sqlite_utils")

_REPORT = f"""
import json as _json
def _report(result):
    print({RESULT_PREFIX!r} + _json.dumps(result), flush=True)
"""

# -- (a) import and first start_run ------------------------------------------------

IMPORT_CHILD = (
    _REPORT
    + """
import sys, time
t0 = time.perf_counter()
import runtui
t_import = time.perf_counter() - t0
heavy = {heavy!r}
after_import = sorted(m for m in heavy if m in sys.modules)
start_run = runtui.start_run
t0 = time.perf_counter()
run = start_run("bench", snapshot=False, capture_output=False, store={store!r})
t_first = time.perf_counter() - t0
for i in range(100):
    run.log({{"loss": 1.0 / (i + 1), "acc": i / 100}}, step=i)
run.finish()
runtui.open_store({store!r}).runs()
after_cycle = sorted(m for m in heavy if m in sys.modules)
_report({{"import": t_import, "first_start_run": t_first, "file": runtui.__file__,
         "after_import": after_import, "after_cycle": after_cycle}})
"""
)

IMPORT_RAW_CHILD = (
    _REPORT
    + """
import time
t0 = time.perf_counter()
import sqlite3
t_import = time.perf_counter() - t0
t0 = time.perf_counter()
conn = sqlite3.connect({db!r}, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, uuid TEXT, name TEXT)")
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO runs(uuid, name) VALUES ('u', 'n')")
conn.execute("COMMIT")
t_first = time.perf_counter() - t0
_report({{"import": t_import, "first_start_run": t_first}})
"""
)

# -- (b) hot loop ------------------------------------------------------------------

HOT_CHILD = (
    _REPORT
    + """
import time
import runtui
start_run = runtui.start_run  # the tracking modules are imported here, outside the timing
N = {steps}
t0 = time.perf_counter()
run = start_run("bench", snapshot=False, capture_output=False, store={store!r})
log = run.log
for i in range(N):
    log({{"loss": 1.0 / (i + 1), "acc": i / N, "lr": 0.001}}, step=i)
t_logged = time.perf_counter() - t0
run.finish()
elapsed = time.perf_counter() - t0
_report({{"elapsed": elapsed, "log_calls": t_logged, "peak_rss": _peak_rss()}})
"""
)

RAW_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL, status TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL);
CREATE TABLE IF NOT EXISTS params (run_id INTEGER NOT NULL, key TEXT NOT NULL, value,
    PRIMARY KEY (run_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metrics (run_id INTEGER NOT NULL, key_id INTEGER NOT NULL,
    step INTEGER NOT NULL, t INTEGER NOT NULL, value REAL,
    PRIMARY KEY (run_id, key_id, step)) WITHOUT ROWID;
"""

_RAW_OPEN = f"""
import sqlite3, time
def _open(db):
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript({RAW_SCHEMA!r})
    return conn
INSERT = "INSERT INTO metrics(run_id, key_id, step, t, value) VALUES (?, ?, ?, ?, ?)"
def _commit(conn, rows):
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT, rows)
    conn.execute("COMMIT")
"""

HOT_RAW_CHILD = (
    _REPORT
    + _RAW_OPEN
    + """
N = {steps}
t0 = time.perf_counter()
conn = _open({db!r})
started = time.time()
rows = []
for i in range(N):
    t = int((time.time() - started) * 1000)
    rows += ((1, 1, i, t, 1.0 / (i + 1)), (1, 2, i, t, i / N), (1, 3, i, t, 0.001))
    if len(rows) >= 1000:
        _commit(conn, rows)
        rows = []
conn.execute("PRAGMA synchronous=FULL")
_commit(conn, rows)
conn.close()
elapsed = time.perf_counter() - t0
_report({{"elapsed": elapsed, "peak_rss": _peak_rss()}})
"""
)

BARE_CHILD = _REPORT + "_report({'peak_rss': _peak_rss()})\n"

# -- (c) many runs, then reads -----------------------------------------------------

INGEST_CHILD = (
    _REPORT
    + """
import time
import runtui
start_run = runtui.start_run
R, S = {runs}, {steps}
t0 = time.perf_counter()
for r in range(R):
    params = {{"lr": 10 ** -(r % 5), "batch": 32 * (1 + r % 4), "optimizer": "adam",
              "layers": r % 7, "dropout": 0.1}}
    run = start_run("bench", name=f"run-{{r}}", params=params, snapshot=False,
                    capture_output=False, store={store!r})
    log = run.log
    a = 1.0 + r / 7  # every run its own curves, as in a real sweep
    for s in range(S):
        log({{"loss": a / (s + 1), "acc": s / S / a, "val_loss": 2.0 * a / (s + 1)}}, step=s)
    run.finish()
_report({{"elapsed": time.perf_counter() - t0}})
"""
)

INGEST_RAW_CHILD = (
    _REPORT
    + _RAW_OPEN
    + """
import uuid
R, S = {runs}, {steps}
t0 = time.perf_counter()
conn = _open({db!r})
for r in range(R):
    started = time.time()
    conn.execute("BEGIN IMMEDIATE")
    run_id = conn.execute(
        "INSERT INTO runs(uuid, name, status, started_at) VALUES (?, ?, 'running', ?)",
        (str(uuid.uuid4()), f"run-{{r}}", started),
    ).lastrowid
    params = {{"lr": 10 ** -(r % 5), "batch": 32 * (1 + r % 4), "optimizer": "adam",
              "layers": r % 7, "dropout": 0.1}}
    conn.executemany("INSERT INTO params VALUES (?, ?, ?)",
                     [(run_id, k, v) for k, v in params.items()])
    conn.execute("COMMIT")
    rows = []
    a = 1.0 + r / 7
    for s in range(S):
        t = int((time.time() - started) * 1000)
        rows += ((run_id, 1, s, t, a / (s + 1)), (run_id, 2, s, t, s / S / a),
                 (run_id, 3, s, t, 2.0 * a / (s + 1)))
        if len(rows) >= 1000:
            _commit(conn, rows)
            rows = []
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT, rows)
    conn.execute("UPDATE runs SET status = 'completed', ended_at = ? WHERE id = ?",
                 (time.time(), run_id))
    conn.execute("COMMIT")
    conn.execute("PRAGMA synchronous=NORMAL")
conn.close()
_report({{"elapsed": time.perf_counter() - t0}})
"""
)

SHORT_CHILD = (
    _REPORT
    + """
import statistics, time
import runtui
start_run = runtui.start_run
times = []
for i in range({repeat} + 1):
    t0 = time.perf_counter()
    with start_run("short", snapshot=False, capture_output=False, store={store!r}) as run:
        for s in range(10):
            run.log("loss", 1.0 / (s + 1))
    times.append(time.perf_counter() - t0)
rec = runtui.open_store({store!r}).run(run.uuid)
_report({{"run": statistics.median(times[1:]), "git_commit": rec.git_commit}})
"""
)

READ_CHILD = (
    _REPORT
    + """
import sqlite3, statistics, time
import runtui
REPEAT, HISTORIES = {repeat}, {histories}

def timed(fn):
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)

def raw_list():
    runs = conn.execute(
        "SELECT r.id, r.uuid, r.name, e.name, r.status, r.started_at, r.ended_at "
        "FROM runs r JOIN experiments e ON e.id = r.experiment_id ORDER BY r.started_at DESC"
    ).fetchall()
    params, last = {{}}, {{}}
    for run_id, key, value in conn.execute("SELECT run_id, key, value FROM params"):
        params.setdefault(run_id, {{}})[key] = value
    for run_id, name, value in conn.execute(
        "SELECT s.run_id, k.name, s.last FROM metric_summary s "
        "JOIN metric_keys k ON k.id = s.key_id"
    ):
        last.setdefault(run_id, {{}})[name] = value
    return [(row, params.get(row[0]), last.get(row[0])) for row in runs]

def raw_histories():
    for run_id, key_id in raw_chosen:
        assert len(conn.execute(
            "SELECT step, t, value FROM metrics WHERE run_id = ? AND key_id = ? ORDER BY step",
            (run_id, key_id),
        ).fetchall()) == {steps}

def histories():
    for r, name in chosen:
        assert len(store.history(r, name)) == {steps}

# first listing of a fresh process (like `runtui ls`), raw then runtui
conn = sqlite3.connect({db!r}, isolation_level=None)
t0 = time.perf_counter()
raw_list()
t_raw_cold = time.perf_counter() - t0
store = runtui.open_store({store!r})
t0 = time.perf_counter()
runs = store.runs()
t_cold = time.perf_counter() - t0
assert len(runs) == {runs}, len(runs)
assert all(len(r.params) == 5 and r.summary["loss"].count == {steps} for r in runs)
chosen = [(r, name) for r in runs for name in ("loss", "acc", "val_loss")][:HISTORIES]
keys = dict(conn.execute("SELECT name, id FROM metric_keys"))
raw_chosen = [(r.row_id, keys[name]) for r, name in chosen]

_report({{"list_cold": t_cold, "raw_list_cold": t_raw_cold,
          "list": timed(store.runs), "raw_list": timed(raw_list),
          "histories": timed(histories), "raw_histories": timed(raw_histories)}})
"""
)

SIZE_CHILD = (
    _REPORT
    + """
import os, sqlite3
conn = sqlite3.connect({db!r}, isolation_level=None)
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
points = conn.execute("SELECT count(*) FROM metrics").fetchone()[0]
conn.close()
size = sum(os.path.getsize(p) for p in ({db!r}, {db!r} + "-wal") if os.path.exists(p))
_report({{"points": points, "bytes": size}})
"""
)


def _median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def run(quick: bool) -> list[Row]:
    steps = 10_000 if quick else 100_000
    n_runs, run_steps = (20, 100) if quick else (200, 500)
    import_repeat = 3 if quick else 7
    loop_repeat = 1 if quick else 3
    rows: list[Row] = []
    with temp_dir() as work:
        # (a)
        imports, raw_imports = [], []
        import_child = IMPORT_CHILD.format(heavy=HEAVY, store=str(work / "imp"))
        import_raw_child = IMPORT_RAW_CHILD.format(db=str(work / "imp.db"))
        run_python(import_child, cwd=work)  # the store exists before the measured starts
        run_python(import_raw_child, cwd=work)
        for _ in range(import_repeat):
            imports.append(run_python(import_child, cwd=work))
            raw_imports.append(run_python(import_raw_child, cwd=work))
        print(f"runtui measured from {Path(imports[0]['file']).parent}", flush=True)
        t_import = _median(imports, "import") * 1e3
        rows.append(
            Row("import runtui (vs import sqlite3)", t_import, "ms",
                _median(raw_imports, "import") * 1e3, "<= 50 ms", t_import <= 50)
        )  # fmt: skip
        loaded_import = sorted({m for r in imports for m in r["after_import"]})
        loaded_cycle = sorted({m for r in imports for m in r["after_cycle"]})
        for label, loaded in (("import", loaded_import), ("log+read cycle", loaded_cycle)):
            rows.append(
                Row(f"heavy modules loaded after {label}: {', '.join(loaded) or 'none'}",
                    len(loaded), "", None, "none", not loaded)
            )  # fmt: skip
        rows.append(
            Row("first start_run of a process (vs connect+insert)",
                _median(imports, "first_start_run") * 1e3, "ms",
                _median(raw_imports, "first_start_run") * 1e3)
        )  # fmt: skip

        # (b) and (d)
        hot, raw_hot = [], []
        for i in range(loop_repeat):
            store, db = work / f"hot{i}", work / f"hot{i}.db"
            hot.append(run_python(HOT_CHILD.format(steps=steps, store=str(store)), cwd=work))
            raw_hot.append(run_python(HOT_RAW_CHILD.format(steps=steps, db=str(db)), cwd=work))
        points = steps * 3
        us, raw_us = (_median(r, "elapsed") * 1e6 / points for r in (hot, raw_hot))
        rows.append(
            Row(f"hot loop {steps:,} steps x 3, start_run..finish", us, "us/pt", raw_us,
                "<= 2x raw", us <= 2 * raw_us)
        )  # fmt: skip
        rows.append(Row("  of which the log() calls", _median(hot, "log_calls") * 1e6 / points,
                        "us/pt"))  # fmt: skip
        size = run_python(SIZE_CHILD.format(db=str(work / "hot0" / "runtui.db")))
        raw_size = run_python(SIZE_CHILD.format(db=str(work / "hot0.db")))
        assert size["points"] == raw_size["points"] == points, (size, raw_size)
        per_point, raw_per_point = size["bytes"] / points, raw_size["bytes"] / points
        rows.append(
            Row("bytes on disk per point (db + wal)", per_point, "B", raw_per_point,
                "<= 40 B", per_point <= 40)
        )  # fmt: skip
        bare = statistics.median(run_python(BARE_CHILD)["peak_rss"] for _ in range(3))
        rss = (_median(hot, "peak_rss") - bare) / 2**20
        raw_rss = (_median(raw_hot, "peak_rss") - bare) / 2**20
        rows.append(
            Row("peak RSS of the hot loop over bare python", rss, "MiB", raw_rss,
                "<= 40 MiB", rss <= 40)
        )  # fmt: skip

        # (c)
        store, db = work / "many", work / "many.db"
        sizes = {"runs": n_runs, "steps": run_steps}
        ingest = run_python(INGEST_CHILD.format(store=str(store), **sizes), cwd=work)
        raw_ingest = run_python(INGEST_RAW_CHILD.format(db=str(db), **sizes), cwd=work)
        t, raw_t = ingest["elapsed"], raw_ingest["elapsed"]
        rows.append(
            Row(f"{n_runs} runs x 5 params x 3 metrics x {run_steps} steps", t, "s", raw_t,
                "<= 2x raw", t <= 2 * raw_t)
        )  # fmt: skip
        repo = work / "repo"
        repo.mkdir()
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "x", "--allow-empty"]):
            subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=repo,
                           capture_output=True, check=False)  # fmt: skip
        repeat = 5 if quick else 20
        in_git = run_python(SHORT_CHILD.format(store=str(work / "short"), repeat=repeat), cwd=repo)
        no_git = run_python(SHORT_CHILD.format(store=str(work / "short"), repeat=repeat), cwd=work)
        rows.append(
            Row("a 10-point run in a git checkout (vs outside)", in_git["run"] * 1e3, "ms",
                no_git["run"] * 1e3, "git recorded", in_git["git_commit"] is not None)
        )  # fmt: skip
        histories = 50
        reads = run_python(
            READ_CHILD.format(store=str(store), db=str(store / "runtui.db"), repeat=7,
                              histories=histories, **sizes),
            cwd=work,
        )  # fmt: skip
        t_cold = reads["list_cold"] * 1e3
        rows.append(
            Row(f"list {n_runs} runs with params + last values, first", t_cold, "ms",
                reads["raw_list_cold"] * 1e3, "<= 10 ms", t_cold <= 10)
        )  # fmt: skip
        t_list = reads["list"] * 1e3
        rows.append(
            Row("  listed again (median)", t_list, "ms", reads["raw_list"] * 1e3, "<= 10 ms",
                t_list <= 10)
        )  # fmt: skip
        t_hist = reads["histories"] * 1e3
        rows.append(
            Row(f"read {histories} full histories ({run_steps} points each)", t_hist, "ms",
                reads["raw_histories"] * 1e3, "<= 20 ms", t_hist <= 20)
        )  # fmt: skip
    return rows


if __name__ == "__main__":
    raise SystemExit(main(run, "store and logging (bench_logging)"))
