"""Runs started one after another in one process: git recorded, connection reused safely."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import runtui


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_finished_run_has_its_git_commit_branch_and_dirty_state(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "trunk")
    (repo / "train.py").write_text("print(1)\n")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "first")
    (repo / "train.py").write_text("print(2)\n")
    monkeypatch.chdir(repo)

    with runtui.start_run("git", snapshot=False, capture_output=False) as run:
        run.log("loss", 0.5)

    record = runtui.open_store().run(run.uuid)
    assert record.git_commit == _git(repo, "rev-parse", "HEAD")
    assert record.git_branch == "trunk"
    assert record.git_dirty is True


def test_outside_git_the_fields_stay_empty(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with runtui.start_run("plain", snapshot=False, capture_output=False) as run:
        run.log("loss", 0.5)
    record = runtui.open_store().run(run.uuid)
    assert (record.git_commit, record.git_branch, record.git_dirty) == (None, None, None)


def test_runs_in_sequence_into_a_replaced_store_all_land(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    with runtui.start_run("seq", snapshot=False, capture_output=False, store=store) as run:
        run.log("loss", 1.0)
    shutil.rmtree(store)  # the connection kept for the next run now points at a deleted file
    with runtui.start_run("seq", snapshot=False, capture_output=False, store=store) as run:
        run.log("loss", 2.0)
    with runtui.start_run("seq", snapshot=False, capture_output=False, store=store) as run:
        run.log("loss", 3.0)
    runs = runtui.open_store(store).runs()
    assert sorted(r.summary["loss"].last for r in runs) == [2.0, 3.0]
    assert all(r.status == "completed" for r in runs)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_clean_detached_checkout_reads_clean_with_no_branch(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "src" / "train.py").write_text("print(1)\n")
    (repo / "notes.txt").write_text("untracked files do not make a checkout dirty\n")
    _git(repo, "add", "src")
    _git(repo, "commit", "-q", "-m", "first")
    _git(repo, "checkout", "-q", "--detach")
    monkeypatch.chdir(repo / "src")

    with runtui.start_run("git", snapshot=False, capture_output=False) as run:
        run.log("loss", 0.5)

    record = runtui.open_store().run(run.uuid)
    assert record.git_commit == _git(repo, "rev-parse", "HEAD")
    assert (record.git_branch, record.git_dirty) == (None, False)
