"""Starting runs: `start_run`, and the one-run-per-process `init`/`log`/`finish`.

A run is created synchronously (so it is visible at once and a bad argument
fails here, before training), then its points flow through the background
flusher. If the store cannot be written at start, the run is created in the
spill file instead and merged later: training starts anyway.

``RUNTUI_RUN_ID`` (set by ``runtui run``) makes the first run of a process
attach to that existing run instead of creating one; the runner owns its
status and its captured output.
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import time
import uuid as uuid_module
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runtui.errors import RuntuiError, StoreError, StoreVersionError
from runtui.store import connection, location, writer
from runtui.tracking import lifecycle
from runtui.tracking.flusher import Flusher, take_connection
from runtui.tracking.run import Run, _check_name

_active: Run | None = None
_attach_consumed = False

_ADJECTIVES = (
    "amber", "brave", "calm", "clever", "cosmic", "crisp", "dapper", "eager", "fancy", "gentle",
    "golden", "happy", "jolly", "keen", "lively", "lucky", "mellow", "misty", "noble", "proud",
    "quiet", "rapid", "royal", "shiny", "silent", "sunny", "swift", "tidy", "vivid", "witty",
)  # fmt: skip
_NOUNS = (
    "badger", "bison", "comet", "crane", "dawn", "dune", "falcon", "fern", "forest", "galaxy",
    "glade", "harbor", "heron", "lake", "lynx", "meadow", "moon", "otter", "panda", "pine",
    "planet", "river", "sky", "sparrow", "star", "storm", "tiger", "valley", "wave", "wolf",
)  # fmt: skip


def generate_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(1, 99)}"


def start_run(
    experiment: str = "default",
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    snapshot: bool | str | os.PathLike[str] = True,
    capture_output: bool = True,
    system_metrics: bool = False,
    store: str | os.PathLike[str] | None = None,
) -> Run:
    """Start a run and return it; use it as a context manager to set its final status."""
    global _attach_consumed
    _check_name(experiment, "experiment")
    if name is not None:
        _check_name(name, "run")
    folder = location.resolve_store_path(store)
    attach_to = os.environ.get("RUNTUI_RUN_ID")
    if attach_to and not _attach_consumed:
        _attach_consumed = True
        run = _attach(folder, attach_to)
        if params:
            run.log_params(params)
        if tags:
            run.set_tags(tags)
    else:
        run = _create(folder, experiment, name or generate_name(), params, tags, snapshot)
        if capture_output:
            _start_capture(run)
    if system_metrics:
        _start_system_metrics(run)
    lifecycle.register(run)
    return run


def _create(
    folder: Path,
    experiment: str,
    name: str,
    params: Mapping[str, Any] | None,
    tags: Mapping[str, Any] | None,
    snapshot: bool | str | os.PathLike[str],
) -> Run:
    from runtui.tracking.context import process_context
    from runtui.tracking.gitrecord import GitRecorder

    now = time.time()
    run = Run(
        store_path=folder,
        uuid=str(uuid_module.uuid4()),
        name=name,
        experiment=experiment,
        started_at=now,
        owner=True,
    )
    fresh_params = run._check_params(params or {})
    run._params.update(fresh_params)
    clean_tags = {
        _check_name(k, "tag"): "" if v is None else str(v) for k, v in (tags or {}).items()
    }
    context = process_context()
    fields: dict[str, Any] = {
        "uuid": run.uuid,
        "name": name,
        "status": "running",
        "started_at": now,
        "heartbeat_at": now,
        **context,
    }
    ops = [
        {"op": "run", "experiment": experiment, "fields": fields},
        {"op": "params", "uuid": run.uuid, "params": fresh_params},
        {"op": "tags", "uuid": run.uuid, "tags": clean_tags},
    ]
    conn: sqlite3.Connection | None = None
    row_id: int | None = None
    try:
        conn = take_connection(folder)
        connection.write_transaction(conn, lambda c: writer.apply_ops(c, ops))
        row_id = writer.run_row_id(conn, run.uuid)
        ops = []
    except StoreVersionError:
        raise
    except (sqlite3.Error, OSError, StoreError):
        if conn is not None:
            conn.close()
        conn = None
    flusher = Flusher(run, conn, row_id)
    for op in ops:  # the store refused: the run itself goes to the spill first
        run._queue(op, soon=False)
    run._start(flusher)
    git = GitRecorder(run, Path(str(context["cwd"])))  # git fields follow with a flush
    if git.start():
        run._services.append(git)
    if ops:
        flusher.wake.set()
    if snapshot:
        try:
            _take_snapshot(run, snapshot)
        except BaseException as exc:  # Ctrl-C in a long walk, a bug: ended as it was, not crashed
            status, error, code = lifecycle.outcome(type(exc), exc, exc.__traceback__)
            run.finish(status, error=error, exit_code=code)  # a second finish does nothing
            raise
    return run


def _take_snapshot(run: Run, snapshot: bool | str | os.PathLike[str]) -> None:
    """Record the exact code of the run (see `runtui.snapshot`)."""
    from runtui.snapshot.capture import snapshot_for_run

    snapshot_for_run(run, None if snapshot is True else Path(snapshot))


def _attach(folder: Path, run_ref: str) -> Run:
    """The existing run ``run_ref`` (set by ``runtui run``), to log into but not to finish.

    If the store cannot be read right now (locked, unwritable), a full uuid is
    enough to go on: points are spilled and merged into that run later.
    """
    from runtui.store.reader import open_store

    try:
        store = open_store(folder)
        try:
            record = store.run(run_ref)
        finally:
            store.close()
    except (StoreVersionError, LookupError):
        raise
    except (RuntuiError, sqlite3.Error, OSError) as exc:
        if not _is_uuid(run_ref):
            raise RuntuiError(f"RUNTUI_RUN_ID={run_ref}: {exc}") from None
        sys.stderr.write(f"runtui: warning: store not readable ({exc}); spilling run data\n")
        run = Run(
            store_path=folder,
            uuid=run_ref,
            name=run_ref[:8],
            experiment="",
            started_at=time.time(),
            owner=False,
        )
        run._start(Flusher(run, None, None))
        return run
    run = Run(
        store_path=folder,
        uuid=record.uuid,
        name=record.name,
        experiment=record.experiment,
        started_at=record.started_at,
        owner=False,
        params=record.params,
        next_steps={k: s.last_step + 1 for k, s in record.summary.items()},
    )
    try:
        conn: sqlite3.Connection | None = connection.connect(folder)
    except (StoreError, sqlite3.Error, OSError):
        conn = None  # the flusher spills until the store can be written
    run._start(Flusher(run, conn, record.row_id))
    return run


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid_module.UUID(text)) == text
    except ValueError:
        return False


def _start_capture(run: Run) -> None:
    from runtui.tracking.capture import OutputCapture

    capture = OutputCapture(location.log_path(run.store_path, run.uuid))
    try:
        capture.start()
    except OSError as exc:
        sys.stderr.write(f"runtui: warning: output not captured ({exc})\n")
        return
    run._services.append(capture)


def _start_system_metrics(run: Run) -> None:
    from runtui.tracking.sysmetrics import SystemMetrics

    sampler = SystemMetrics(run)
    if sampler.start():
        run._services.append(sampler)


# -- one run per process --------------------------------------------------------


def init(
    experiment: str = "default",
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    snapshot: bool | str | os.PathLike[str] = True,
    capture_output: bool = True,
    system_metrics: bool = False,
    store: str | os.PathLike[str] | None = None,
) -> Run:
    """Start a run and make it the active one (attaching under ``runtui run``)."""
    global _active
    if _active is not None and not _active._finished:
        raise RuntuiError(f"run {_active.id} is still active; call runtui.finish() first")
    _active = start_run(
        experiment, name, params, tags, snapshot, capture_output, system_metrics, store
    )
    return _active


def active_run() -> Run | None:
    return _active if _active is not None and not _active._finished else None


def _require_active() -> Run:
    run = active_run()
    if run is None:
        raise RuntuiError("no active run: call runtui.init() first")
    return run


def log(name: str | Mapping[str, Any], value: Any = None, step: int | None = None) -> None:
    _require_active().log(name, value, step)


def finish(status: str = "completed") -> None:
    run = active_run()
    if run is not None:
        run.finish(status)
