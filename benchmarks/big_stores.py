"""Large stores for the CLI benchmarks, written fast through runtui's own writer functions.

Each run is one transaction through `writer.insert_run`, `write_params`,
`write_tags` and `write_points` (the path the logger's flusher takes), with
whole metric columns per call, so a 10,000,000-point store takes tens of
seconds instead of the hours that logging one point at a time would.
"""

from __future__ import annotations

import math
import random
import sqlite3
import time
import uuid
from pathlib import Path

from runtui.store import connection, writer

METRICS = ("loss", "acc", "val_loss", "lr")
OPTIMIZERS = ("adam", "sgd", "adamw")


def build_store(folder: Path, *, runs: int, points_per_metric: int, seed: int = 0) -> Path:
    """A store of ``runs`` finished runs, each with 4 params, a tag and 4 metrics."""
    rng = random.Random(seed)
    conn = connection.connect(folder, create=True)
    conn.execute("PRAGMA synchronous=OFF")  # a benchmark fixture: durability not needed
    start = time.time() - runs * 600.0
    steps = list(range(points_per_metric))
    ts = [s * 100 for s in steps]
    for i in range(runs):

        def one_run(c: sqlite3.Connection, i: int = i) -> None:
            started = start + i * 600.0
            status = "failed" if i % 10 == 0 else "completed"
            row_id = writer.insert_run(
                c,
                f"exp-{i % 5}",
                {
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "name": f"run-{i}",
                    "status": "running",
                    "started_at": started,
                    "command": ["python", "train.py", f"--seed={i}"],
                    "host": "bench",
                },
            )
            writer.finish_run(c, row_id, status, ended_at=started + 500.0)
            params = {"lr": 10.0 ** -rng.randint(2, 5), "batch_size": 32,
                      "optimizer": OPTIMIZERS[i % 3], "seed": i}  # fmt: skip
            writer.write_params(c, row_id, params)
            writer.write_tags(c, row_id, {"team": "nlp" if i % 2 else "vision"})
            keys = writer.intern_metric_keys(c, METRICS)
            decay = rng.uniform(1e-4, 1e-2)
            columns = {
                key_id: writer.Column(
                    steps, ts, [math.exp(-decay * s) + rng.random() * 0.01 for s in steps]
                )
                for key_id in keys.values()
            }
            writer.write_points(c, row_id, columns)

        connection.write_transaction(conn, one_run)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return folder
