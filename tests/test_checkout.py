"""``runtui checkout``: byte-for-byte restores, and never a write outside the target folder."""

from __future__ import annotations

import hashlib
import os
import zlib
from pathlib import Path

import pytest

from runtui.snapshot.capture import store_tree
from runtui.snapshot.checkout import UnsafeSnapshotError, restore
from runtui.snapshot.walk import walk
from runtui.store import connection, snapshots
from runtui.store.snapshots import SnapshotFile


def make(root: Path, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def tree_of(root: Path) -> dict[str, tuple[str, object, int]]:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path), 0)
            elif path.is_file():
                out[rel] = ("file", path.read_bytes(), path.stat().st_mode & 0o777)
    return out


def test_restore_is_byte_for_byte_with_modes_and_links(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make(src, {"run.sh": b"#!/bin/sh\necho hi\n", "pkg/m.py": b"x = 1", "w.bin": os.urandom(5000)})
    (src / "run.sh").chmod(0o755)
    (src / "pkg" / "m.py").chmod(0o640)
    os.symlink("pkg/m.py", src / "alias.py")
    os.symlink("/nonexistent/target", src / "dangling")
    conn = connection.connect(tmp_path / "store", create=True)
    snap = store_tree(conn, walk(src))
    done = restore(conn, snap.snapshot_id, tmp_path / "out" / "deep")
    assert (done.files, done.links) == (3, 2)
    assert tree_of(tmp_path / "out" / "deep") == tree_of(src)


def test_refuses_a_non_empty_folder_unless_forced(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make(src, {"a.py": b"new\n"})
    conn = connection.connect(tmp_path / "store", create=True)
    snap = store_tree(conn, walk(src))
    dest = tmp_path / "dest"
    make(dest, {"a.py": b"old\n", "other.txt": b"keep"})
    with pytest.raises(Exception, match="is not empty"):
        restore(conn, snap.snapshot_id, dest)
    assert (dest / "a.py").read_bytes() == b"old\n"
    restore(conn, snap.snapshot_id, dest, force=True)
    assert (dest / "a.py").read_bytes() == b"new\n" and (dest / "other.txt").exists()


def test_force_checks_every_path_before_writing_anything(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make(src, {"a.py": b"new\n", "m/b.py": b"new\n", "z.txt": b"new\n"})
    conn = connection.connect(tmp_path / "store", create=True)
    snap = store_tree(conn, walk(src))
    dest = tmp_path / "dest"
    make(dest, {"a.py": b"old\n", "m/b.py": b"old\n", "z.txt/inside": b"mine"})
    with pytest.raises(Exception, match="a folder is in the way"):
        restore(conn, snap.snapshot_id, dest, force=True)
    assert {k: v[1] for k, v in tree_of(dest).items()} == {
        "a.py": b"old\n", "m/b.py": b"old\n", "z.txt/inside": b"mine",
    }  # fmt: skip


def _hostile(tmp_path: Path, entries: list[tuple[str, bytes | None, str | None]]) -> tuple:
    """A store whose only snapshot holds ``entries`` (path, content or None, link target)."""
    conn = connection.connect(tmp_path / "store", create=True)
    files, blobs = [], []
    for path, content, link in entries:
        if content is not None:
            digest = hashlib.sha256(content).hexdigest()
            blobs.append((digest, len(content), zlib.compress(content)))
            files.append(SnapshotFile(path, digest, len(content), 0o644))
        else:
            files.append(SnapshotFile(path, None, 0, 0o777, link))

    def write(c):
        snapshots.insert_blobs(c, blobs)
        return snapshots.insert_snapshot(c, "hostile", "/x", files)

    return conn, connection.write_transaction(conn, write)


@pytest.mark.parametrize(
    "entries",
    [
        [("../escape.txt", b"pwned", None)],
        [("a/../../escape.txt", b"pwned", None)],
        [("/tmp/escape-abs.txt", b"pwned", None)],
        [("a//b.txt", b"x", None)],
        [("./a.txt", b"x", None)],
        [("link", None, ".."), ("link/escape.txt", b"pwned", None)],  # symlinked parent
        [("link", None, "/"), ("link/tmp/escape.txt", b"pwned", None)],  # link then file through
        [("file.txt", b"x", None), ("file.txt/inner", b"pwned", None)],
        [("nul\0.txt", b"x", None)],
    ],
    ids=["dotdot", "inner-dotdot", "absolute", "empty-part", "dot", "link-parent",
         "link-then-file", "file-parent", "nul"],
)  # fmt: skip
def test_hostile_stored_paths_are_refused_and_nothing_is_written(
    tmp_path: Path, entries: list
) -> None:
    conn, snapshot_id = _hostile(tmp_path, entries)
    dest = tmp_path / "sandbox" / "dest"
    with pytest.raises(UnsafeSnapshotError, match="refusing snapshot"):
        restore(conn, snapshot_id, dest)
    assert not (tmp_path / "sandbox").exists()
    assert not Path("/tmp/escape-abs.txt").exists()


def test_a_symlink_already_in_the_target_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    conn, snapshot_id = _hostile(
        tmp_path, [("sub/file.txt", b"data", None), ("top.txt", b"t", None)]
    )
    dest = tmp_path / "dest"
    dest.mkdir()
    os.symlink(outside, dest / "sub")  # planted before a --force checkout
    os.symlink(outside / "victim.txt", dest / "top.txt")
    with pytest.raises(Exception, match="not a folder"):
        restore(conn, snapshot_id, dest, force=True)
    assert list(outside.iterdir()) == []


def test_a_planted_file_link_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("safe")
    conn, snapshot_id = _hostile(tmp_path, [("top.txt", b"restored", None)])
    dest = tmp_path / "dest"
    dest.mkdir()
    os.symlink(outside / "victim.txt", dest / "top.txt")
    restore(conn, snapshot_id, dest, force=True)
    assert (outside / "victim.txt").read_text() == "safe"
    assert not (dest / "top.txt").is_symlink() and (dest / "top.txt").read_bytes() == b"restored"


def test_checkout_command(tmp_path: Path, store_dir: Path) -> None:
    from click.testing import CliRunner

    import runtui
    from runtui.cli.main import main

    code = tmp_path / "code"
    make(code, {"train.py": b"print('v1')\n"})
    with runtui.start_run(snapshot=str(code), capture_output=False, store=store_dir) as run:
        pass
    with runtui.start_run(snapshot=False, capture_output=False, store=store_dir) as bare:
        pass

    def checkout(*args: str):
        return CliRunner().invoke(main, ["checkout", *args])

    done = checkout(run.id, str(tmp_path / "out"))
    assert done.exit_code == 0, done.output
    assert (tmp_path / "out" / "train.py").read_text() == "print('v1')\n"
    again = checkout(run.id, str(tmp_path / "out"))
    assert again.exit_code == 2 and "not empty" in again.stderr and "--force" in again.stderr
    none = checkout(bare.id, str(tmp_path / "out2"))
    assert none.exit_code == 2 and "has no code snapshot" in none.stderr
    unknown = checkout("nosuchrun", str(tmp_path / "out3"))
    assert unknown.exit_code == 2 and "nosuchrun" in unknown.stderr
    assert "Traceback" not in done.stderr + again.stderr + none.stderr + unknown.stderr


def test_checkout_refuses_an_empty_folder_argument(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import runtui
    from runtui.cli.main import main

    code = tmp_path / "code"
    make(code, {"train.py": b"print('v1')\n"})
    with runtui.start_run(snapshot=str(code), capture_output=False, store=store_dir) as run:
        pass
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    for folder in ("", "  "):
        done = CliRunner().invoke(main, ["checkout", run.id, folder, "--force"])
        assert done.exit_code == 2 and "FOLDER is empty" in done.stderr
    assert list(here.iterdir()) == []  # nothing restored into the working folder
