"""Copying artifacts into the store, content-addressed.

A file goes to ``artifacts/<sha256[:2]>/<sha256>``; the same content logged
by a thousand runs is stored once. The file is read once: each chunk is
hashed as it is copied into a temporary file, which is then renamed to the
digest of exactly what was copied. So a checkpoint still being written when
it is logged is stored under the hash of the bytes stored, never of other
content, and a crash never leaves a half-written artifact under a final
name. A full disk, or a file that vanished meanwhile, warns and skips the
artifact: it never stops the training.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtui.store import location

if TYPE_CHECKING:
    from runtui.tracking.run import Run

_CHUNK = 1 << 20


def _copy_hashed(source: Path, folder: Path) -> tuple[str, int]:
    """Copy ``source`` into ``folder`` under its sha256; return the digest and size copied."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".incoming-{os.getpid()}-{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        name = digest.hexdigest()
        target = folder / name[:2] / name
        if target.exists():
            tmp.unlink()
        else:
            target.parent.mkdir(exist_ok=True)
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return name, size


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
    folder = location.artifacts_dir(run.store_path)
    for source, artifact_name in _files(path, base):
        try:
            digest, size = _copy_hashed(source, folder)
        except OSError as exc:
            sys.stderr.write(f"runtui: warning: artifact {artifact_name!r} not stored ({exc})\n")
            continue
        ops.append(
            {
                "op": "artifact",
                "uuid": run.uuid,
                "name": artifact_name,
                "hash": digest,
                "size": size,
                "created_at": time.time(),
            }
        )
    return ops
