"""Deterministic runs for the run-screen tests: fixed uuids, times, metrics and logs.

Written through the store's own writer functions, so the screen renders
the same bytes on every machine (no wall clock, no random names).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from textual.app import App

from runtui.store import connection, location, writer
from runtui.tui.screens.run import RunScreen

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
NOW = T0 + 7200.0
HOSTILE = "[bold]x[/] [@click=app.exit]boom[/]"


def add_run(
    store: Path,
    uuid: str,
    *,
    name: str = "resnet-50",
    experiment: str = "vision",
    status: str = "completed",
    duration: float = 3723.0,
    error: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    metrics: Mapping[str, Sequence[float]] | None = None,
    log: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Write one run with the given metrics (steps 0..n-1, one point per second)."""
    conn = connection.connect(store, create=True)

    def write(c):  # type: ignore[no-untyped-def]
        fields = {
            "uuid": uuid,
            "name": name,
            "status": "running",
            "started_at": T0,
            "command": ["python", "train.py", "--lr", "0.1"],
            "cwd": "/home/ada/proj",
            "host": "gpu-box",
            "user": "ada",
            "pid": 4242,
            "python": "3.11.7",
            "git_commit": "0123456789abcdef0123456789abcdef01234567",
            "git_branch": "main",
            "git_dirty": True,
            "env": dict(env or {"CUDA_VISIBLE_DEVICES": "0", "WANDB_API_KEY": "***"}),
        }
        rid = writer.insert_run(c, experiment, fields)
        writer.write_params(c, rid, params or {"lr": 0.1, "batch_size": 32})
        writer.write_tags(c, rid, tags or {"team": "vision"})
        for metric, values in (metrics or {}).items():
            key = writer.intern_metric_keys(c, [metric])[metric]
            steps = list(range(len(values)))
            column = writer.Column(steps, [s * 1000 for s in steps], list(values))
            writer.write_points(c, rid, {key: column})
        if status != "running":
            writer.finish_run(c, rid, status, ended_at=T0 + duration, error=error)

    connection.write_transaction(conn, write)
    conn.close()
    if log is not None:
        path = location.log_path(store, uuid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in log), encoding="utf-8")


def loss_curve(n: int) -> list[float]:
    return [2.0 * math.exp(-i / (n / 4)) + 0.05 * math.sin(i / 3) for i in range(n)]


def acc_curve(n: int) -> list[float]:
    return [1.0 - 0.9 * math.exp(-i / (n / 5)) for i in range(n)]


TRACEBACK = """Traceback (most recent call last):
  File "train.py", line 40, in <module>
    main()
  File "train.py", line 33, in main
    step(batch)
ValueError: loss exploded: nan at step 49"""


class RunApp(App[None]):
    """A bare app whose only job is to push the run screen (at `NOW`), as the main screen does."""

    def __init__(self, store: Path, uuid: str) -> None:
        super().__init__()
        self.store, self.uuid = store, uuid

    def on_mount(self) -> None:
        self.push_screen(RunScreen(self.store, self.uuid, clock=lambda: NOW))
