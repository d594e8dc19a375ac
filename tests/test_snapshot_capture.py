"""Taking snapshots: content-addressed blobs, shared file lists, the size cap, start_run."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import runtui
from runtui.snapshot import capture, gitdiff
from runtui.snapshot.capture import store_tree
from runtui.snapshot.limits import Limits, SnapshotTooLargeError, check
from runtui.snapshot.walk import walk
from runtui.store import connection, snapshots


def make(root: Path, files: dict[str, bytes | str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    c = connection.connect(tmp_path / "store", create=True)
    yield c
    c.close()


def test_unchanged_code_adds_no_blob_bytes_and_shares_the_snapshot(
    tmp_path: Path, conn: sqlite3.Connection
) -> None:
    root = tmp_path / "code"
    make(root, {"a.py": "print(1)\n" * 100, "b.py": "print(2)\n", "copy.py": "print(2)\n"})
    cache = tmp_path / "stat.json"
    first = store_tree(conn, walk(root), cache_file=cache)
    assert first.new_blob_bytes > 0 and first.files == 3
    assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 2  # same content once
    for cache_file in (cache, None):  # with and without the stat cache
        again = store_tree(conn, walk(root), cache_file=cache_file)
        assert again.new_blob_bytes == 0
        assert again.snapshot_id == first.snapshot_id
    (root / "b.py").write_text("print(3)\n")
    changed = store_tree(conn, walk(root), cache_file=cache)
    assert changed.snapshot_id != first.snapshot_id
    assert 0 < changed.new_blob_bytes < first.new_blob_bytes
    files = {f.path: f for f in snapshots.snapshot_files(conn, changed.snapshot_id)}
    data = zlib.decompress(snapshots.read_blob(conn, files["b.py"].hash))
    assert data == b"print(3)\n"


def test_stat_cache_never_hides_an_edit_that_keeps_size_and_mtime(
    tmp_path: Path, conn: sqlite3.Connection
) -> None:
    import os

    root = tmp_path / "code"
    make(root, {"a.py": "x = 1\n"})
    os.utime(root / "a.py", (1_000_000, 1_000_000))
    cache = tmp_path / "stat.json"
    store_tree(conn, walk(root), cache_file=cache)
    (root / "a.py").write_text("x = 2\n")  # same size
    os.utime(root / "a.py", (1_000_000, 1_000_000))  # same mtime; ctime moves on
    snap = store_tree(conn, walk(root), cache_file=cache)
    (entry,) = snapshots.snapshot_files(conn, snap.snapshot_id)
    assert zlib.decompress(snapshots.read_blob(conn, entry.hash)) == b"x = 2\n"


def test_blob_dropped_by_gc_is_stored_again(tmp_path: Path, conn: sqlite3.Connection) -> None:
    root = tmp_path / "code"
    make(root, {"a.py": "a\n", "b.py": "b\n"})
    cache = tmp_path / "stat.json"
    store_tree(conn, walk(root), cache_file=cache)
    for table in ("snapshot_files", "snapshots", "blobs"):  # as gc does when no run uses them
        conn.execute(f"DELETE FROM {table}")
    again = store_tree(conn, walk(root), cache_file=cache)
    assert again.new_blob_bytes > 0
    assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 2


def test_a_gc_racing_the_snapshot_cannot_leave_holes(
    tmp_path: Path, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "code"
    make(root, {"a.py": "a\n", "b.py": "b\n"})
    store_blobs = capture._store_blobs

    def then_gc(c: sqlite3.Connection, hasher: object, then: object) -> int:
        added = store_blobs(c, hasher, then)
        c.execute("DELETE FROM blobs")  # a gc between the blobs and the file list
        return added

    monkeypatch.setattr(capture, "_store_blobs", then_gc)
    snap = store_tree(conn, walk(root))
    hashes = {f.hash for f in snapshots.snapshot_files(conn, snap.snapshot_id)}
    assert snapshots.existing_blobs(conn, hashes) == hashes


def test_binary_and_incompressible_content_round_trips(
    tmp_path: Path, conn: sqlite3.Connection
) -> None:
    import os

    root = tmp_path / "code"
    noise = os.urandom(200_000)
    make(root, {"weights.bin": noise, "empty.txt": b""})
    snap = store_tree(conn, walk(root))
    files = {f.path: f for f in snapshots.snapshot_files(conn, snap.snapshot_id)}
    assert zlib.decompress(snapshots.read_blob(conn, files["weights.bin"].hash)) == noise
    assert files["empty.txt"].size == 0


def test_many_files_and_duplicates_across_chunks_are_stored_once_each(
    tmp_path: Path, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtui.snapshot import capture

    monkeypatch.setattr(capture, "_CHUNK_FILES", 3)  # many pool tasks in flight
    monkeypatch.setattr(capture, "KEEP_BYTES", 2_000)  # and a full queue most of the time
    root = tmp_path / "code"
    contents = {f"m{i:02}.py": f"value = {i % 7}\n" * 50 for i in range(40)}
    make(root, contents)
    snap = store_tree(conn, walk(root))
    assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 7
    for f in snapshots.snapshot_files(conn, snap.snapshot_id):
        assert zlib.decompress(snapshots.read_blob(conn, f.hash)).decode() == contents[f.path]


def test_a_file_that_vanishes_after_the_walk_is_left_out_with_a_note(
    tmp_path: Path, conn: sqlite3.Connection
) -> None:
    root = tmp_path / "code"
    make(root, {"keep.py": "k\n", "gone.py": "g\n"})
    tree = walk(root)
    (root / "gone.py").unlink()
    snap = store_tree(conn, tree)
    assert [f.path for f in snapshots.snapshot_files(conn, snap.snapshot_id)] == ["keep.py"]
    assert len(tree.skipped) == 1 and tree.skipped[0].startswith("gone.py: ")


def test_a_failure_in_the_pool_propagates_and_leaves_no_thread_behind(
    tmp_path: Path, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from runtui.snapshot import capture

    def broken(data: bytes) -> bytes:
        raise MemoryError("no room")

    monkeypatch.setattr(capture, "compress", broken)
    root = tmp_path / "code"
    make(root, {f"m{i}.py": f"x = {i}\n" for i in range(50)})
    before = set(threading.enumerate())
    with pytest.raises(MemoryError):
        store_tree(conn, walk(root))
    assert set(threading.enumerate()) == before
    assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 0


def test_over_the_cap_names_the_biggest_and_the_line_to_add(tmp_path: Path) -> None:
    root = tmp_path / "code"
    make(root, {"train.py": "x\n", "data/big.bin": b"0" * 3_000_000, "data/small.bin": b"1" * 10})
    (root / ".gitignore").write_text("*.log\n")
    with pytest.raises(SnapshotTooLargeError) as caught:
        check(walk(root), Limits.resolve(max_mb=1))
    message = str(caught.value)
    assert "data/big.bin (3.0 MB)" in message and "data/ (3.0 MB)" in message
    assert "'/data/big.bin'" in message  # the smallest single line that is enough
    assert str(root / ".runtuiignore") in message and "replaces .gitignore" in message
    assert "\n" not in message


def test_file_count_cap_and_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "code"
    make(root, {"a.py": "a", **{f"cache/{i}.npy": str(i) for i in range(20)}})
    monkeypatch.setenv("RUNTUI_SNAPSHOT_MAX_FILES", "10")
    with pytest.raises(SnapshotTooLargeError, match=r"21 files, over the 10-file cap.*'/cache/'"):
        check(walk(root), Limits.resolve())
    check(walk(root), Limits.resolve(max_files=0))  # 0: no cap
    monkeypatch.setenv("RUNTUI_SNAPSHOT_MAX_MB", "lots")
    with pytest.raises(runtui.RuntuiError, match="RUNTUI_SNAPSHOT_MAX_MB='lots' is not a number"):
        Limits.resolve()


def test_from_python_the_default_cap_names_the_variable_that_changes_it(tmp_path: Path) -> None:
    root = tmp_path / "code"
    make(root, {"main.py": "x"})
    with (root / "weights.bin").open("wb") as sparse:  # 301 MB on paper, no disk used
        sparse.truncate(301_000_000)
    with pytest.raises(SnapshotTooLargeError) as caught:
        check(walk(root), Limits.resolve())
    assert "cap (the default; RUNTUI_SNAPSHOT_MAX_MB sets another)" in str(caught.value)


def test_a_walk_far_over_the_cap_stops_early(tmp_path: Path) -> None:
    root = tmp_path / "home"
    make(root, {f"d{i}/f{j}.txt": "x" for i in range(10) for j in range(10)})
    limits = Limits.resolve(max_files=5)
    tree = walk(root, **limits.walk_stops())
    assert tree.truncated and len(tree.entries) < 100
    with pytest.raises(SnapshotTooLargeError, match="more than"):
        check(tree, limits)


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip


def test_start_run_snapshots_the_git_root_with_the_uncommitted_diff(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    make(root, {"train.py": "lr = 0.1\n", "pkg/model.py": "W = 1\n", "out.log": "noise"})
    (root / ".gitignore").write_text("*.log\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "init")
    (root / "train.py").write_text("lr = 0.2\n")
    monkeypatch.chdir(root / "pkg")
    with runtui.start_run("snap", capture_output=False, store=store_dir) as run:
        pass
    record = runtui.open_store(store_dir).run(run.uuid)
    assert record.snapshot_id is not None
    assert "-lr = 0.1" in record.git_diff and "+lr = 0.2" in record.git_diff
    listed = runtui.open_store(store_dir).runs()[0]  # listings read the diff when asked
    assert listed.git_diff == record.git_diff
    conn = connection.connect(store_dir)
    paths = [f.path for f in snapshots.snapshot_files(conn, record.snapshot_id)]
    assert paths == [".gitignore", "pkg/model.py", "train.py"]  # root is the git root


def test_start_run_with_a_chosen_root_outside_git_and_snapshot_false(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    make(code, {"main.py": "print('hi')\n"})
    monkeypatch.chdir(tmp_path)
    with runtui.start_run(snapshot=str(code), capture_output=False, store=store_dir) as run:
        pass
    with runtui.start_run(snapshot=False, capture_output=False, store=store_dir) as bare:
        pass
    store = runtui.open_store(store_dir)
    assert store.run(run.uuid).snapshot_id is not None
    assert store.run(run.uuid).git_diff is None  # not a git checkout: absent, no error
    assert store.run(bare.uuid).snapshot_id is None


def test_start_run_over_the_cap_fails_before_training(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    make(code, {"main.py": "x", "ckpt/model.pt": b"0" * 2_000_000})
    monkeypatch.chdir(code)
    monkeypatch.setenv("RUNTUI_SNAPSHOT_MAX_MB", "1")
    with pytest.raises(SnapshotTooLargeError, match=r"ckpt/model\.pt"):
        runtui.start_run("big", capture_output=False, store=store_dir)
    (record,) = runtui.open_store(store_dir).runs()
    assert record.status == "failed" and "over the 1.0 MB cap" in record.error


def test_ctrl_c_during_the_snapshot_cancels_the_run(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    make(code, {"main.py": "x"})
    monkeypatch.chdir(code)

    def interrupted(*args: object, **kwargs: object) -> None:  # Ctrl-C in a long walk
        raise KeyboardInterrupt

    monkeypatch.setattr(capture, "walk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runtui.start_run("slow", capture_output=False, store=store_dir)
    (record,) = runtui.open_store(store_dir).runs()
    assert record.status == "canceled"  # not left running, to be found crashed later


def test_a_script_over_the_file_cap_in_a_flat_folder_fails_its_run(
    tmp_path: Path, store_dir: Path, subprocess_env: dict[str, str]
) -> None:
    code = tmp_path / "code"
    make(code, {"train.py": "import runtui\nruntui.start_run('flat')\nprint('training')\n",
                "model.py": "W = 1\n", "data.py": "X = 2\n"})  # fmt: skip
    done = subprocess.run(
        [sys.executable, "train.py"],
        cwd=code, env={**subprocess_env, "RUNTUI_SNAPSHOT_MAX_FILES": "2"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and "training" not in done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("runtui.snapshot.limits.SnapshotTooLargeError: code snapshot of")
    assert "3 files, over the 2-file cap (set by RUNTUI_SNAPSHOT_MAX_FILES)" in last
    (record,) = runtui.open_store(store_dir).runs()
    assert record.status == "failed" and "over the 2-file cap" in record.error


def test_storage_trouble_warns_and_training_goes_on(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    from runtui.snapshot import capture

    code = tmp_path / "code"
    make(code, {"main.py": "x"})
    monkeypatch.chdir(code)

    def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(capture, "store_tree", broken)
    with runtui.start_run(capture_output=False, store=store_dir) as run:
        run.log("loss", 1.0)
    assert "code snapshot not stored (disk I/O error)" in capfd.readouterr().err
    record = runtui.open_store(store_dir).run(run.uuid)
    assert record.status == "completed" and record.snapshot_id is None


def test_outside_git_a_snapshot_never_runs_git(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "git-calls"
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 128\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("GIT_DIR", raising=False)
    code = tmp_path / "code"
    make(code, {"main.py": "print('hi')\n"})
    monkeypatch.chdir(code)
    with runtui.start_run("snap", capture_output=False, store=store_dir) as run:
        pass
    assert runtui.open_store(store_dir).run(run.uuid).snapshot_id is not None
    assert not calls.exists()  # no git process at all


def test_a_huge_uncommitted_diff_is_stored_cut_with_a_note(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    make(root, {"data.csv": "".join(f"{i},old\n" for i in range(3000))})
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "init")
    (root / "data.csv").write_text("".join(f"{i},new\n" for i in range(3000)))
    monkeypatch.setattr(gitdiff, "MAX_DIFF_BYTES", 16 << 10)
    monkeypatch.chdir(root)
    with runtui.start_run("snap", capture_output=False, store=store_dir) as run:
        pass
    diff = runtui.open_store(store_dir).run(run.uuid).git_diff
    assert diff.startswith("diff --git a/data.csv b/data.csv\n")
    assert len(diff.encode()) <= (16 << 10) + 100
    body, note = diff.rstrip("\n").rsplit("\n", 1)
    assert "the diff was cut here" in note and "larger than" in note
    assert body.endswith(",old") or body.endswith(",new")  # cut between whole lines
