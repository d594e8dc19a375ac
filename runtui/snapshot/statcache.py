"""Remembering file hashes between snapshots of the same root, as git's index does.

A file whose size, mtime, ctime and inode are unchanged since the last
snapshot is not read again: its hash is taken from a small JSON file in the
store folder (``cache/snapshot-<root hash>.json``). The ctime cannot be set
by a user, so an edit that restores the mtime is still seen. A file modified
within `RACY_S` of the cache being written is not remembered ("racily
clean" in git's words): the same timestamp could hide a second edit.

The cache is only a shortcut: every hash it gives is still checked against
the store's blobs, a missing blob is read from the file and re-hashed, and
losing the file (or failing to write it) only makes the next snapshot read
everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from runtui.snapshot.walk import TreeEntry

RACY_S = 2.0
CACHE_DIRNAME = "cache"


def cache_path(store: Path, root: Path) -> Path:
    key = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    return store / CACHE_DIRNAME / f"snapshot-{key}.json"


Cache = dict[str, tuple[tuple[int, ...], str]]  # path -> (stamp, hash)


def load(path: Path) -> Cache:
    """path -> (stamp, hash); empty when there is no usable cache."""
    try:
        data = json.loads(path.read_bytes())
        return {k: (tuple(v[0]), v[1]) for k, v in data["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return {}


def lookup(cache: Cache, entry: TreeEntry) -> str | None:
    known = cache.get(entry.path)
    if known is not None and entry.stamp is not None and entry.stamp == known[0]:
        return known[1]
    return None


def save(path: Path, hashes: dict[str, tuple[TreeEntry, str]]) -> None:
    """Remember ``path -> (entry, hash)``, skipping racily recent files; errors are ignored."""
    newest = time.time_ns() - int(RACY_S * 1e9)
    files = {
        rel: [list(entry.stamp), digest]
        for rel, (entry, digest) in hashes.items()
        if entry.stamp is not None and entry.stamp[0] < newest
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"files": files}, separators=(",", ":")))
        os.replace(tmp, path)
    except OSError:
        pass
