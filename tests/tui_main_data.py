"""A fixed store for the main-screen tests: known uuids, names, times, params and curves.

Written through `writer.apply_ops` (the store's own write path), so the TUI
renders the same thing on every machine when given the clock `NOW`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtui import liveness
from runtui.store import connection, writer

NOW = 1_700_000_000.0


@dataclass
class Spec:
    name: str
    experiment: str
    status: str
    started_ago: float
    duration: float | None  # None: still running
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def curve(n: int, start: float, end: float, wobble: float = 0.0) -> list[float]:
    return [
        start + (end - start) * (1 - math.exp(-4 * i / n)) + wobble * math.sin(i) for i in range(n)
    ]


SPECS: list[Spec] = [
    Spec(
        "resnet-lr-0.1",
        "cifar",
        "completed",
        7200,
        3600,
        {"lr": 0.1, "batch_size": 64},
        {"loss": curve(60, 2.3, 0.4, 0.02), "acc": curve(60, 0.1, 0.91)},
    ),
    Spec(
        "resnet-lr-0.01",
        "cifar",
        "completed",
        6000,
        3000,
        {"lr": 0.01, "batch_size": 64},
        {"loss": curve(60, 2.3, 0.3), "acc": curve(60, 0.1, 0.94)},
    ),
    Spec(
        "resnet-diverged",
        "cifar",
        "failed",
        5000,
        120,
        {"lr": 1.0, "batch_size": 64},
        {"loss": [2.3, 5.0, 40.0, math.inf, math.nan], "acc": [0.1, 0.1, 0.1, 0.1, 0.1]},
    ),
    Spec(
        "resnet-live",
        "cifar",
        "running",
        1800,
        None,
        {"lr": 0.003, "batch_size": 128},
        {"loss": curve(30, 2.3, 1.0), "acc": curve(30, 0.1, 0.6)},
    ),
    Spec(
        "bert-base",
        "nlp",
        "completed",
        90000,
        5400,
        {"lr": 3e-5, "warmup": 100},
        {"loss": curve(40, 3.0, 1.2), "f1": curve(40, 0.2, 0.88)},
        {"team": "nlp"},
    ),
    Spec(
        "bert-large",
        "nlp",
        "crashed",
        80000,
        700,
        {"lr": 2e-5, "warmup": 100},
        {"loss": curve(10, 3.0, 2.5)},
        {"team": "nlp"},
    ),
    Spec(
        "bert-canceled",
        "nlp",
        "canceled",
        3 * 86400,
        65,
        {"lr": 5e-5, "warmup": 500},
        {"loss": curve(5, 3.0, 2.9)},
    ),
]


def uuid_of(index: int) -> str:
    return f"{index + 1:08x}-0000-4000-8000-{index + 1:012x}"


def build_store(folder: Path, specs: Sequence[Spec] = SPECS, now: float = NOW) -> Path:
    """Write ``specs`` into a new store at ``folder`` (running runs owned by this process)."""
    ops: list[dict[str, Any]] = []
    for i, spec in enumerate(specs):
        uuid = uuid_of(i)
        started = now - spec.started_ago
        fields: dict[str, Any] = {
            "uuid": uuid,
            "name": spec.name,
            "status": "running",
            "started_at": started,
            "heartbeat_at": now - 1 if spec.duration is None else started + spec.duration,
            "command": ["python", "train.py"],
            "host": liveness.hostname(),
            "pid": os.getpid(),
            "pid_started": liveness.start_marker(os.getpid()),
        }
        ops.append({"op": "run", "experiment": spec.experiment, "fields": fields})
        if spec.params:
            ops.append({"op": "params", "uuid": uuid, "params": spec.params})
        if spec.tags:
            ops.append({"op": "tags", "uuid": uuid, "tags": spec.tags})
        for key, values in spec.metrics.items():
            ops.append(_points(uuid, key, values))
        if spec.duration is not None:
            ops.append(
                {
                    "op": "finish",
                    "uuid": uuid,
                    "status": spec.status,
                    "ended_at": started + spec.duration,
                    "error": "RuntimeError: loss is inf" if spec.status == "failed" else None,
                }
            )
    conn = connection.connect(folder, create=True)
    try:
        connection.write_transaction(conn, lambda c: writer.apply_ops(c, ops))
    finally:
        conn.close()
    return folder


def _points(uuid: str, key: str, values: Sequence[float]) -> Mapping[str, Any]:
    steps = list(range(len(values)))
    return {
        "op": "points",
        "uuid": uuid,
        "key": key,
        "steps": steps,
        "ts": [s * 1000 for s in steps],
        "values": [v if v == v else math.nan for v in values],
    }
