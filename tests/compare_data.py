"""A fixed store for the compare tests: four runs with known params, curves, env and code.

Runs A, B, C are in experiment "vision" (started in that order), D alone in
"nlp". A's code differs from B's (one file modified, one added, one
removed, a binary file changed); C ran B's code. Names, params and code
carry markup and escape sequences, which must show literally.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runtui.snapshot.capture import store_tree
from runtui.snapshot.walk import walk
from runtui.store import connection, writer

T0 = 1_700_000_000.0
NOW = T0 + 86_400.0
HOSTILE = "[bold]x[/] [@click=app.exit]boom[/]"

UUIDS = {
    "A": "0000000a-0000-4000-8000-00000000000a",
    "B": "0000000b-0000-4000-8000-00000000000b",
    "C": "0000000c-0000-4000-8000-00000000000c",
    "D": "0000000d-0000-4000-8000-00000000000d",
}

CODE_A: dict[str, bytes] = {
    "train.py": b'import torch\n\nLR = 0.1\nEPOCHS = 10\n\n\ndef main():\n    """Train."""\n'
    b"    print(LR, EPOCHS)\n",
    "config.yaml": b"model: resnet18\nbatch_size: 32\n",
    "old_utils.py": b"def helper():\n    return 1\n",
    "weights.bin": b"\0\1\2\3" * 16,
    "README.md": b"# demo\n",
}
CODE_B: dict[str, bytes] = {
    "train.py": b"import torch\n\nLR = 0.2\nEPOCHS = 10\nWD = 0.01\n\n\n"
    b'def main():\n    """Train."""\n'
    b'    print(LR, EPOCHS, WD, "\x1b]0;pwned\x07[red]x[/]")\n',
    "config.yaml": b"model: resnet18\nbatch_size: 64\n",
    "new_utils.py": b"def helper():\n    return 2\n",
    "weights.bin": b"\0\1\2\4" * 16,
    "README.md": b"# demo\n",
}


def curve(n: int, start: float, end: float, wobble: float = 0.0) -> list[float]:
    return [
        start + (end - start) * (1 - math.exp(-4 * i / n)) + wobble * math.sin(i) for i in range(n)
    ]


RUNS: dict[str, dict[str, Any]] = {
    "A": {
        "name": "resnet-lr0.1",
        "experiment": "vision",
        "started": T0,
        "params": {"lr": 0.1, "batch_size": 32, "optimizer": "sgd", "epochs": 10},
        "tags": {"team": "vision", "note": HOSTILE},
        "metrics": {"loss": curve(50, 2.3, 0.40, 0.02), "acc": curve(50, 0.1, 0.90)},
        "env": {"CUDA_VISIBLE_DEVICES": "0", "OMP_NUM_THREADS": "8"},
        "command": ["python", "train.py", "--lr", "0.1"],
        "git": ("1111111111111111111111111111111111111111", False),
        "code": CODE_A,
    },
    "B": {
        "name": HOSTILE,
        "experiment": "vision",
        "started": T0 + 7200,
        "params": {"lr": 0.2, "batch_size": 64, "optimizer": "sgd", "epochs": 10, "wd": 0.01},
        "tags": {"team": "vision", "note": HOSTILE},
        "metrics": {"loss": curve(60, 2.3, 0.30), "acc": curve(60, 0.1, 0.93), "grad_norm": [1.0]},
        "env": {"CUDA_VISIBLE_DEVICES": "1", "OMP_NUM_THREADS": "8"},
        "command": ["python", "train.py", "--lr", "0.2", "--wd", "0.01"],
        "git": ("2222222222222222222222222222222222222222", True),
        "code": CODE_B,
    },
    "C": {
        "name": "resnet-lr0.05",
        "experiment": "vision",
        "started": T0 + 14400,
        "params": {"lr": 0.05, "batch_size": 64, "optimizer": "sgd", "epochs": 10, "wd": 0.01},
        "tags": {"team": "vision"},
        "metrics": {"loss": curve(40, 2.3, 0.5, 0.05), "acc": curve(40, 0.1, 0.85)},
        "env": {"CUDA_VISIBLE_DEVICES": "1", "OMP_NUM_THREADS": "8"},
        "command": ["python", "train.py", "--lr", "0.05", "--wd", "0.01"],
        "git": ("2222222222222222222222222222222222222222", True),
        "code": CODE_B,
    },
    "D": {
        "name": "bert-base",
        "experiment": "nlp",
        "started": T0 + 3600,
        "params": {"lr": 3e-5},
        "tags": {},
        "metrics": {"loss": curve(30, 3.0, 1.2)},
        "env": {},
        "command": ["python", "bert.py"],
        "git": ("3333333333333333333333333333333333333333", False),
        "code": None,
    },
}


def _write_code(root: Path, files: Mapping[str, bytes]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        (root / rel).write_bytes(content)


def build_store(folder: Path) -> Path:
    """Write the four runs (all completed, one hour each) into a new store at ``folder``."""
    conn = connection.connect(folder, create=True)
    snapshot_ids: dict[int, int] = {}
    for label, spec in RUNS.items():
        code = spec["code"]
        if code is not None and id(code) not in snapshot_ids:
            root = folder.parent / f"code-{label}"
            _write_code(root, code)
            snapshot_ids[id(code)] = store_tree(conn, walk(root)).snapshot_id

    def write(c: Any) -> None:
        for label, spec in RUNS.items():
            commit, dirty = spec["git"]
            fields = {
                "uuid": UUIDS[label],
                "name": spec["name"],
                "status": "running",
                "started_at": spec["started"],
                "command": spec["command"],
                "cwd": "/home/ada/proj",
                "host": "gpu-box",
                "user": "ada",
                "pid": 4242,
                "python": "3.11.7",
                "git_commit": commit,
                "git_branch": "main",
                "git_dirty": dirty,
                "env": spec["env"],
            }
            if spec["code"] is not None:
                fields["snapshot_id"] = snapshot_ids[id(spec["code"])]
            rid = writer.insert_run(c, spec["experiment"], fields)
            writer.write_params(c, rid, spec["params"])
            if spec["tags"]:
                writer.write_tags(c, rid, spec["tags"])
            for metric, values in spec["metrics"].items():
                key = writer.intern_metric_keys(c, [metric])[metric]
                steps = list(range(len(values)))
                column = writer.Column(steps, [s * 1000 for s in steps], list(values))
                writer.write_points(c, rid, {key: column})
            writer.finish_run(c, rid, "completed", ended_at=spec["started"] + 3600)

    connection.write_transaction(conn, write)
    conn.close()
    return folder
