"""Logging artifacts: what is stored is what its hash says, even for a file still changing."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

import runtui
from runtui.tracking import artifacts


def start(store: Path) -> runtui.Run:
    return runtui.start_run("art", snapshot=False, capture_output=False, store=store)


def stored_files(store_dir: Path) -> list[Path]:
    return [p for p in (store_dir / "artifacts").rglob("*") if p.is_file()]


def test_a_checkpoint_still_being_written_is_stored_under_its_own_hash(
    store_dir: Path, tmp_path: Path
) -> None:
    ckpt = tmp_path / "ckpt.pt"
    ckpt.write_bytes(os.urandom(4 << 20))
    stop = threading.Event()

    def keep_writing() -> None:
        with open(ckpt, "ab") as f:
            while not stop.is_set():
                f.write(os.urandom(64 << 10))
                f.flush()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with start(store_dir) as run:
            for _ in range(6):
                run.log_artifact(ckpt)
    finally:
        stop.set()
        writer.join()
    store = runtui.open_store(store_dir)
    (logged,) = store.artifacts(store.run(run.uuid))  # the same name each time: one row
    data = store.artifact_path(logged).read_bytes()
    assert hashlib.sha256(data).hexdigest() == logged.hash and len(data) == logged.size
    for path in stored_files(store_dir):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name


def test_a_file_that_vanishes_while_logged_is_skipped_with_a_warning(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("b")
    real_replace = os.replace

    def replace_then_source_vanishes(src, dst):  # type: ignore[no-untyped-def]
        real_replace(src, dst)
        (folder / "a.txt").unlink(missing_ok=True)  # deleted by the training script meanwhile

    monkeypatch.setattr(artifacts.os, "replace", replace_then_source_vanishes)
    with start(store_dir) as run:
        run.log_artifact(folder)
    monkeypatch.undo()
    store = runtui.open_store(store_dir)
    names = [a.name for a in store.artifacts(store.run(run.uuid))]
    assert names == ["out/a.txt", "out/b.txt"]  # a.txt was copied whole before it went
    assert "Traceback" not in capsys.readouterr().err
    (folder / "c.txt").write_text("c")
    with start(store_dir) as run:
        monkeypatch.setattr(artifacts, "_files", lambda p, n: iter([(folder / "gone", "gone")]))
        run.log_artifact(folder)
    assert "artifact 'gone' not stored" in capsys.readouterr().err
    assert not list((store_dir / "artifacts").glob(".incoming-*"))  # no temporary file left
