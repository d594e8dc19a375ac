"""Spill files: what a run could not write to the store, kept until it can.

When the database cannot be written (read-only, disk full, locked past the
timeout), the logger appends each operation as one JSON line to a spill
file, inside the store (``spill/``) or, when the store folder itself is not
writable, in the user's cache folder (keyed by the store's path). The next
successful write of that run, or the next `open_store` of the store with
write access, replays the files and deletes them.

JSON lines: ``{"op": "run" | "params" | "tags" | "points" | "finish" | "artifact", ...}``.
NaN and ±inf are written as JSON's ``NaN``/``Infinity`` extensions, which
Python reads back.
"""

from __future__ import annotations

import binascii
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runtui.store import connection, location, writer


def fallback_dir(store: Path) -> Path:
    """Where spills go when the store folder is not writable (one folder per store path)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = f"{binascii.crc32(str(store).encode()):08x}"
    return base / "runtui" / "spill" / key


def spill_dirs(store: Path) -> list[Path]:
    return [location.spill_dir(store), fallback_dir(store)]


class SpillFile:
    """Append-only JSONL of operations for one run of one process."""

    def __init__(self, store: Path, run_uuid: str) -> None:
        self.store = store
        self.name = f"{run_uuid}.{os.getpid()}.jsonl"
        self.path: Path | None = None
        self.folders = spill_dirs(store)  # worked out here, not on the flushing thread

    def append(self, ops: list[dict[str, Any]]) -> Path:
        text = "".join(json.dumps(op, default=str) + "\n" for op in ops)
        last_error: OSError | None = None
        for folder in ([self.path.parent] if self.path else []) + self.folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with open(folder / self.name, "a", encoding="utf-8") as f:
                    f.write(text)
                self.path = folder / self.name
                return self.path
            except OSError as exc:
                last_error = exc
        raise last_error or OSError("no folder to spill into")


def _pending(store: Path) -> Iterator[Path]:
    for folder in spill_dirs(store):
        if folder.is_dir():
            yield from sorted(folder.glob("*.jsonl"))


def has_pending(store: Path) -> bool:
    return next(_pending(store), None) is not None


def merge_all(store: Path, conn: sqlite3.Connection, *, only: Path | None = None) -> int:
    """Replay spill files into the database; return how many files were merged."""
    merged = 0
    for path in _pending(store):
        if only is not None and path != only:
            continue
        claimed = path.with_suffix(".merging")
        try:
            path.rename(claimed)  # so two processes never merge the same file
        except OSError:
            continue
        ops = _read_ops(claimed)
        try:
            connection.write_transaction(
                conn, lambda c, ops=ops: writer.apply_ops(c, ops, skip_unknown_runs=True)
            )
        except (sqlite3.OperationalError, OSError):
            claimed.rename(path)  # the store is busy or unwritable now: try again later
            raise
        except Exception as exc:
            aside = path.with_suffix(".bad")
            claimed.rename(aside)
            sys.stderr.write(
                f"runtui: warning: could not merge spilled data {path.name} ({exc}); "
                f"kept it as {aside}\n"
            )
            continue
        claimed.unlink()
        merged += 1
    return merged


def _read_ops(path: Path) -> list[dict[str, Any]]:
    """The operations of a spill file; a line cut short (a full disk) is skipped."""
    ops = []
    for line in path.read_text("utf-8", errors="replace").splitlines():
        try:
            op = json.loads(line)
        except ValueError:
            continue
        if isinstance(op, dict) and "op" in op:
            ops.append(op)
    return ops
