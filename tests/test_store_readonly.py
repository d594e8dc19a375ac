"""A store on a read-only filesystem: readable, and logging into it never stops training."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import runtui


@pytest.fixture
def readonly_view(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(a folder, the same folder mounted read-only); skipped where mounting is refused."""
    source, view = tmp_path / "source", tmp_path / "view"
    source.mkdir()
    view.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(source), str(view)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("bind mounts are not allowed here")
    try:
        remount = ["mount", "-o", "remount,bind,ro", str(view)]
        if subprocess.run(remount, capture_output=True).returncode != 0:
            pytest.skip("read-only remounts are not allowed here")
        yield source, view
    finally:
        subprocess.run(["umount", "--lazy", str(view)], capture_output=True)


def test_read_only_store_is_readable_and_logging_spills(
    readonly_view: tuple[Path, Path], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    source, view = readonly_view
    with runtui.start_run(store=source / "st", snapshot=False, capture_output=False) as run:
        run.log("x", 1.0)
    store = runtui.open_store(view / "st")
    assert not store.writable
    assert [r.uuid for r in store.runs()] == [run.uuid]
    store.close()

    late = runtui.start_run(store=view / "st", snapshot=False, capture_output=False)
    late.log("y", 2.0)
    late.finish()
    assert "Training goes on" in capfd.readouterr().err
    assert list((tmp_path / "cache" / "runtui" / "spill").rglob("*.jsonl"))
