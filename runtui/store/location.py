"""Where the store folder is.

Resolution order, first match wins:
1. an explicit path (``--store`` or ``store=``),
2. the ``RUNTUI_STORE`` environment variable,
3. the nearest ``.runtui/`` folder in the current folder or its parents (like git),
4. ``./.runtui/``, created on the first write.

A store folder holds ``runtui.db`` (SQLite, WAL), ``logs/<uuid>.log`` and
``artifacts/``.
"""

from __future__ import annotations

import os
from pathlib import Path

STORE_DIRNAME = ".runtui"
DB_FILENAME = "runtui.db"
LOGS_DIRNAME = "logs"
ARTIFACTS_DIRNAME = "artifacts"
SPILL_DIRNAME = "spill"


def resolve_store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the store folder to use; it may not exist yet."""
    if path is not None and str(path) != "":
        return Path(path).expanduser().absolute()
    env = os.environ.get("RUNTUI_STORE")
    if env:
        return Path(env).expanduser().absolute()
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / STORE_DIRNAME
        if candidate.is_dir():
            return candidate
    return here / STORE_DIRNAME


def db_path(store: Path) -> Path:
    return store / DB_FILENAME


def log_path(store: Path, run_uuid: str) -> Path:
    return store / LOGS_DIRNAME / f"{run_uuid}.log"


def artifacts_dir(store: Path) -> Path:
    return store / ARTIFACTS_DIRNAME


def spill_dir(store: Path) -> Path:
    return store / SPILL_DIRNAME
