"""Building the demo store: days of history, one killed run, two live runs.

Order matters for speed (the whole build takes a couple of seconds):

1. Two child processes start: one runs the run that will crash
   (`runtui.demo.crashing`), the other the live runs (step 5); both get
   going while this process writes the history.
2. The history: every planned run is logged through the public API with
   explicit steps, its log file written directly, then finished.
3. The child is killed (SIGKILL); opening the store notices its process is
   gone and marks the run ``crashed``, as it would for a real OOM kill.
4. All runs are moved back to the days they "ran" (`store.demo_writes`).
5. The detached live process (`runtui.demo.live`) has started two runs
   that keep logging for ``live_seconds``, then finish by themselves.

A demo store carries a marker file; building into a folder that holds
anything else but a demo store is refused, so the demo never mixes into a
real store.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import chdir
from dataclasses import dataclass
from pathlib import Path

from runtui.demo import runs
from runtui.demo.plan import RunPlan, cut
from runtui.demo.projects import bert
from runtui.errors import RuntuiError
from runtui.store import connection, demo_writes, location

MARKER = ".runtui-demo"
READY_TIMEOUT_S = 15.0
_MARKER_TEXT = "This folder is a demo store made by `runtui demo`; delete it freely.\n"


@dataclass(frozen=True)
class DemoStore:
    path: Path
    experiments: int
    runs: int
    live_pid: int | None  # the background writer, None when there are no live runs
    warnings: tuple[str, ...]


def plans(seed: int) -> list[RunPlan]:
    """Every historical run of the demo, oldest first."""
    every = [plan for project in runs.PROJECTS for plan in project.plans(seed)]
    return sorted(every, key=lambda p: -p.started_ago_s)


def check_folder(store: Path) -> None:
    """Raise `RuntuiError` unless ``store`` is new, empty, or an earlier demo store."""
    if store.exists() and not store.is_dir():
        raise RuntuiError(f"{store} is a file; the demo store must be a folder")
    if store.is_dir() and any(store.iterdir()) and not (store / MARKER).is_file():
        raise RuntuiError(
            f"{store} is not empty and is not a demo store; refusing to mix demo runs "
            "into it (give --store a new folder, or leave --store out)"
        )


def prepare(store: Path) -> None:
    """Make ``store`` an empty demo store, refusing any folder that holds something else."""
    check_folder(store)
    if store.is_dir():
        _clear(store)
    store.mkdir(parents=True, exist_ok=True)
    (store / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")


def _clear(store: Path) -> None:
    """Remove what an earlier demo build wrote, so the new one starts empty."""
    db = location.db_path(store)
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    for folder in (location.LOGS_DIRNAME, location.ARTIFACTS_DIRNAME, location.SPILL_DIRNAME):
        shutil.rmtree(store / folder, ignore_errors=True)


def build(store: Path, *, seed: int = 0, live_seconds: float = 180.0) -> DemoStore:
    # Demo runs belong to no outer `runtui run`: never attach to one.
    os.environ.pop("RUNTUI_RUN_ID", None)
    prepare(store)
    warnings: list[str] = []
    now = time.time()
    children = [_spawn("runtui.demo.crashing", store, seed)]
    if live_seconds > 0:
        live_args = ("--seconds", f"{live_seconds:g}")
        children.append(_spawn("runtui.demo.live", store, seed, *live_args, wait_for_go=True))
    placed: list[tuple[RunPlan, str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="runtui-demo-code-") as tmp:
            folders = runs.CodeFolders(Path(tmp))
            with chdir(tmp):  # runtui asks git about the working folder: outside a repo, at once
                for plan in plans(seed):
                    placed.append((plan, _write_history(store, plan, folders, Path(tmp))))
    except BaseException:
        for child in children:
            child.stop()
        raise
    crashed = _kill_when_ready(children[0], store)
    if crashed is None:
        warnings.append("the crashed demo run could not be made")
    else:
        placed.append((bert.crashed_plan(seed), crashed))
    _backdate(store, placed, now)
    live_pid = None
    if live_seconds > 0:
        live = children[1]
        if _wait_ready(live) is None:
            live.process.kill()
            warnings.append("the live demo runs did not start")
        else:
            live_pid = live.process.pid
        assert live.go_fd is not None
        os.close(live.go_fd)  # its clock starts now, not while the history was written
        _reap_later(live.process)
    return _summary(store, live_pid, warnings)


def _write_history(store: Path, plan: RunPlan, folders: runs.CodeFolders, tmp: Path) -> str:
    project = runs.project_of(plan)
    full = project.series(plan)
    series = cut(full, plan.stop_step)
    events = project.log_events(plan, full, bar_every=plan.total_steps)
    run = runs.start(store, plan, folders.folder(plan))
    runs.log_points(run, series, -1, plan.stop_step)
    text = runs.text_between(events, -1, plan.stop_step)
    error = project.error(plan, folders.files(plan), runs.project_root(plan))
    if error is not None:
        text = text if text.endswith("\n") else text + "\n"
        text += ("^C" if plan.outcome == "canceled" else "") + error + "\n"
    log = location.log_path(store, run.uuid)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(text, encoding="utf-8")
    if plan.outcome == "completed" and {"best", "baseline"} & plan.tags.keys():
        results = tmp / f"{run.uuid}.json"
        last = {name: values[-1] for name, (_steps, values) in series.items()}
        results.write_text(json.dumps(last, indent=2) + "\n", encoding="utf-8")
        run.log_artifact(results, name="eval_results.json")
    if plan.outcome == "canceled":
        run.finish("canceled", error="KeyboardInterrupt")
    else:
        run.finish(plan.outcome, error=error)
    return run.uuid


def _backdate(store: Path, placed: list[tuple[RunPlan, str]], now: float) -> None:
    def transaction(conn: sqlite3.Connection) -> None:
        for plan, uuid in placed:
            started = now - plan.started_ago_s
            demo_writes.backdate_run(
                conn,
                uuid,
                started_at=started,
                ended_at=started + plan.duration_s,
                ms_per_step=plan.seconds_per_step * 1000,
                context=runs.context(plan),
            )
        demo_writes.backdate_experiments(conn)

    conn = connection.connect(store)
    try:
        connection.write_transaction(conn, transaction)
    finally:
        conn.close()


# -- child processes ----------------------------------------------------------------


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    ready_fd: int  # the child writes a line here once ready
    go_fd: int | None  # closing it tells the child to go on (it sees end-of-file)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self.ready_fd)
        if self.go_fd is not None:
            os.close(self.go_fd)


def _spawn(module: str, store: Path, seed: int, *more: str, wait_for_go: bool = False) -> _Child:
    """Start ``python -m module`` detached (own session, no terminal) with a pipe on which
    it says when it is ready and, with ``wait_for_go``, one whose closing starts it."""
    ready_read, ready_write = os.pipe()
    go_read, go_write = os.pipe() if wait_for_go else (None, None)
    env = {k: v for k, v in os.environ.items() if k not in ("RUNTUI_RUN_ID", "RUNTUI_STORE")}
    argv = [sys.executable, "-m", module, "--store", str(store), "--seed", str(seed), *more]
    argv += ["--ready-fd", str(ready_write)]
    if go_read is not None:
        argv += ["--go-fd", str(go_read)]
    passed = tuple(fd for fd in (ready_write, go_read) if fd is not None)
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=passed,
            start_new_session=True,
            env=env,
        )
    finally:
        for fd in passed:
            os.close(fd)
    return _Child(process, ready_read, go_write)


def _wait_ready(child: _Child) -> str | None:
    """The line the child writes once ready (a run uuid), or None if it died or hung."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    data = b""
    try:
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([child.ready_fd], [], [], left)[0]:
                return None
            chunk = os.read(child.ready_fd, 256)
            if not chunk:
                return None
            data += chunk
    finally:
        os.close(child.ready_fd)
    return data.decode().strip()


def _kill_when_ready(child: _Child, store: Path) -> str | None:
    """Wait for the doomed run to have logged, then kill its process outright."""
    uuid = _wait_ready(child)
    child.process.kill()
    child.process.wait()  # reaped: a zombie would still look alive to the liveness check
    if uuid is None:
        return None
    # Opening the store for writing turns runs whose process is gone into `crashed`.
    from runtui.store.reader import open_store

    open_store(store).close()
    return uuid


def _reap_later(process: subprocess.Popen[bytes]) -> None:
    """Collect the live writer's exit status when it ends, so it never lingers as a zombie
    while the TUI runs (a zombie would look alive to the liveness check)."""
    threading.Thread(target=process.wait, name="runtui-demo-reaper", daemon=True).start()


def _summary(store: Path, live_pid: int | None, warnings: list[str]) -> DemoStore:
    from runtui.store.reader import open_store

    with open_store(store, readonly=True) as opened:
        experiments = opened.experiments()
    return DemoStore(
        path=store,
        experiments=len(experiments),
        runs=sum(e.run_count for e in experiments),
        live_pid=live_pid,
        warnings=tuple(warnings),
    )
