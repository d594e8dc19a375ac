"""`Run`: what a training script logs into.

``run.log`` is the hot call. It validates, stamps and appends to per-metric
column lists under a lock, and returns; the `Flusher` thread writes batches.
When the writer falls behind, the buffer is bounded (`MAX_PENDING_POINTS`):
``log`` waits for room rather than letting memory grow.
"""

from __future__ import annotations

import math
import operator
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runtui.errors import ParamConflictError
from runtui.store.writer import Column, encode_param
from runtui.tracking import flusher as flusher_module

MAX_PENDING_POINTS = 200_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what SQLite can store as an integer


def _as_number(name: str, value: Any) -> float | int:
    """Accept ints, floats and numeric scalars (numpy, torch); reject the rest by name."""
    if isinstance(value, (str, bytes, bytearray)) or value is None:
        raise TypeError(f"metric {name!r}: expected a number, got {type(value).__name__} {value!r}")
    if isinstance(value, float):
        return value
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"metric {name!r}: {value!r} is too large for a float") from None
    except (TypeError, ValueError):
        raise TypeError(f"metric {name!r}: expected a number, got {type(value).__name__}") from None
    if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX:
        return value
    return number


def _number(name: str, value: Any) -> float | int:
    if type(value) is float or (type(value) is int and INT64_MIN <= value <= INT64_MAX):
        return value
    return _as_number(name, value)


def _check_name(name: Any, what: str = "metric") -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} name must be a string, got {type(name).__name__} {name!r}")
    if not name.strip():
        raise ValueError(f"{what} name must not be empty")
    return name


def _same_param(a: Any, b: Any) -> bool:
    ea, eb = encode_param(a), encode_param(b)
    if ea == eb:
        return True
    return ea[1] == eb[1] == "float" and math.isnan(ea[0]) and math.isnan(eb[0])


class Run:
    """A run being logged. Create one with `runtui.start_run` or `runtui.init`."""

    def __init__(
        self,
        *,
        store_path: Path,
        uuid: str,
        name: str,
        experiment: str,
        started_at: float,
        owner: bool,
        params: Mapping[str, Any] | None = None,
        next_steps: Mapping[str, int] | None = None,
    ) -> None:
        self.store_path = store_path
        self.uuid = uuid
        self.name = name
        self.experiment = experiment
        self.started_at = started_at
        self._owner = owner  # False when attached through RUNTUI_RUN_ID: the runner sets the status
        self._params: dict[str, Any] = dict(params or {})
        self._next_steps: dict[str, int] = dict(next_steps or {})
        self._cols: dict[str, tuple[list[int], list[int], list[float]]] = {}
        self._ops: list[dict[str, Any]] = []
        self._pending = 0
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._finishing = False  # finish() has begun: a second call returns at once
        self._finished = False  # nothing more is accepted
        self.status = "running"
        self._flusher: flusher_module.Flusher | None = None
        self._services: list[Any] = []  # things to stop at finish: capture, system metrics

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.name!r} {self.status}>"

    @property
    def id(self) -> str:
        """Short id (the first 8 characters of the uuid), accepted anywhere a run is named."""
        return self.uuid[:8]

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._params)

    # -- the hot path -------------------------------------------------------

    def log(
        self,
        name: str | Mapping[str, Any],
        value: Any = None,
        step: int | None = None,
    ) -> None:
        """Log one metric (``log("loss", 0.5)``) or several (``log({"loss": 0.5, "acc": 0.8})``).

        Without ``step``, each metric's step counts up from 0. NaN and ±inf are
        kept as values.
        """
        if isinstance(name, str):
            if isinstance(value, Mapping):
                raise TypeError(f"metric {name!r}: expected a number, got a mapping")
            items: Any = ((name, value),)
            values: Any = (value,)
        elif type(name) is dict or isinstance(name, Mapping):
            if value is not None and step is None and isinstance(value, int):
                step = value  # log({...}, 10) means step 10
            items = name.items()
            values = name.values()
        else:
            raise TypeError(
                f"log() takes a metric name and a value, or a dict; got {type(name).__name__}"
            )
        if step is not None:
            if type(step) is not int:
                try:
                    step = operator.index(step)
                except TypeError:
                    raise TypeError(f"step must be an integer, got {step!r}") from None
            if not INT64_MIN <= step <= INT64_MAX:
                raise ValueError(f"step {step} is out of range (64-bit integers only)")
        for val in values:
            if type(val) is not float and (
                type(val) is not int or not INT64_MIN <= val <= INT64_MAX
            ):
                items = [(k, _number(k, v)) for k, v in items]
                break
        t = int((time.time() - self.started_at) * 1000)
        with self._lock:
            if self._finished:  # checked under the lock: finish() takes the last buffer
                raise RuntimeError(f"run {self.id} is finished; start a new run to log more")
            cols = self._cols
            if step is None:
                for key, val in items:
                    col = cols.get(key) or self._new_column(key)
                    steps = col[0]
                    steps.append(steps[-1] + 1 if steps else self._next_steps.get(key, 0))
                    col[1].append(t)
                    col[2].append(val)
            else:
                for key, val in items:
                    col = cols.get(key) or self._new_column(key)
                    col[0].append(step)
                    col[1].append(t)
                    col[2].append(val)
            self._pending += len(items)
            pending = self._pending
            if pending >= MAX_PENDING_POINTS and self._flusher is not None:
                self._flusher.wake.set()
                self._room.wait_for(lambda: self._pending < MAX_PENDING_POINTS, timeout=30)
        if pending >= flusher_module.FLUSH_AT_POINTS and self._flusher is not None:
            self._flusher.wake.set()

    def _new_column(self, key: str) -> tuple[list[int], list[int], list[float]]:
        """Start buffering metric ``key`` (called under the lock)."""
        if key not in self._next_steps:
            _check_name(key)
        col: tuple[list[int], list[int], list[float]] = ([], [], [])
        self._cols[key] = col
        return col

    def _take_buffer(self) -> tuple[dict[str, Column], list[dict[str, Any]]]:
        """Hand the buffered points and operations to the flusher (called from its thread).

        A metric's next step (when none is given) is one past its last
        buffered point while it is buffered, and is kept here once handed over.
        """
        with self._lock:
            cols, self._cols = self._cols, {}
            ops, self._ops = self._ops, []
            self._pending = 0
            for key, col in cols.items():
                self._next_steps[key] = col[0][-1] + 1
            self._room.notify_all()
        return {k: Column(*c) for k, c in cols.items()}, ops

    def _queue(self, op: dict[str, Any], *, soon: bool = True) -> None:
        with self._lock:
            if self._finished:
                raise RuntimeError(f"run {self.id} is finished; start a new run to record more")
            self._ops.append(op)
        if soon and self._flusher is not None:
            self._flusher.wake.set()

    # -- params, tags, artifacts -----------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record params. Logging a different value for a key already logged is an error."""
        fresh = self._check_params(params)
        if fresh:
            self._params.update(fresh)
            self._queue({"op": "params", "uuid": self.uuid, "params": fresh})

    def _check_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict, got {type(params).__name__}")
        fresh = {}
        for key, value in params.items():
            _check_name(key, "param")
            if key in self._params:
                if not _same_param(self._params[key], value):
                    raise ParamConflictError(
                        f"param {key!r} is already {self._params[key]!r} in run {self.id}; "
                        f"refusing to replace it with {value!r}"
                    )
                continue
            fresh[key] = value
        return fresh

    def set_tag(self, key: str, value: Any = "") -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if not isinstance(tags, Mapping):
            raise TypeError(f"tags must be a dict, got {type(tags).__name__}")
        clean = {_check_name(k, "tag"): "" if v is None else str(v) for k, v in tags.items()}
        if clean:
            self._queue({"op": "tags", "uuid": self.uuid, "tags": clean})

    def log_artifact(self, path: str | Path, name: str | None = None) -> None:
        """Copy a file (or every file of a folder) into the store, content-addressed."""
        from runtui.tracking import artifacts

        for op in artifacts.store_artifact(self, Path(path), name):
            self._queue(op)

    # -- lifecycle ----------------------------------------------------------------

    def _start(self, flusher: flusher_module.Flusher) -> None:
        self._flusher = flusher
        flusher.start()

    def finish(
        self,
        status: str = "completed",
        *,
        error: str | None = None,
        exit_code: int | None = None,
    ) -> None:
        """Flush everything, durably, and record the final status. Safe to call twice."""
        from runtui.store.records import STATUSES

        if status not in STATUSES or status == "running":
            raise ValueError(f"status must be one of completed, failed, canceled; got {status!r}")
        with self._lock:
            if self._finishing:
                return
            self._finishing = True
        for service in reversed(self._services):
            service.stop()  # they may still record something (git state, a last sample)
        with self._lock:
            self._finished = True
        now = time.time()
        if self._owner:
            final = {"op": "finish", "uuid": self.uuid, "status": status, "ended_at": now}
            final.update(exit_code=exit_code, error=error)
            self.status = status
        elif error:
            final = {"op": "update", "uuid": self.uuid, "fields": {"error": error}}
        else:
            final = None
        if self._flusher is not None:
            self._flusher.stop()
            self._flusher.flush([final] if final else [], durable=True)
            self._flusher.close()
        from runtui.tracking import lifecycle

        lifecycle.forget(self)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        from runtui.tracking import lifecycle

        status, error, code = lifecycle.outcome(exc_type, exc, tb)
        self.finish(status, error=error, exit_code=code)


def format_error(exc_type: Any, exc: Any, tb: Any) -> str:
    import traceback  # only when a run fails: not worth loading to start one

    return "".join(traceback.format_exception(exc_type, exc, tb)).rstrip()
