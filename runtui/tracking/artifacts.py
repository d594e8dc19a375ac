"""Copying artifacts into the store, content-addressed.

A file goes to ``artifacts/<sha256[:2]>/<sha256>``; the same content logged
by a thousand runs is stored once. The copy is written to a temporary name
and renamed into place, so a crash never leaves a half-written artifact
under its final name. A full disk warns and skips the artifact: it never
stops the training.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui.store import location

if TYPE_CHECKING:
    from runtui.tracking.run import Run

_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(path: Path, name: str) -> Iterator[tuple[Path, str]]:
    if path.is_dir():
        for dirpath, _dirs, files in os.walk(path):
            for file in sorted(files):
                full = Path(dirpath) / file
                yield full, f"{name}/{full.relative_to(path).as_posix()}"
    else:
        yield path, name


def store_artifact(run: Run, path: Path, name: str | None) -> list[dict[str, Any]]:
    """Copy ``path`` into the store; return the operations that record it."""
    if not path.exists():
        raise FileNotFoundError(f"artifact {str(path)!r} does not exist")
    base = name or path.name
    ops = []
    for source, artifact_name in _files(path, base):
        try:
            digest = file_digest(source)
            target = location.artifacts_dir(run.store_path) / digest[:2] / digest
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{digest}.{os.getpid()}.tmp")
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)
        except OSError as exc:
            sys.stderr.write(f"runtui: warning: artifact {artifact_name!r} not stored ({exc})\n")
            continue
        ops.append(
            {
                "op": "artifact",
                "uuid": run.uuid,
                "name": artifact_name,
                "hash": digest,
                "size": source.stat().st_size,
                "created_at": time.time(),
            }
        )
    return ops
