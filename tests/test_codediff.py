"""The code diff between two snapshots, and ``runtui diff`` (code, params, metrics, exit codes)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import cli
from click.testing import CliRunner

import runtui
from runtui.cli.main import main
from runtui.services.codediff import ADDED, MODE, MODIFIED, REMOVED, diff_snapshots, file_diff
from runtui.snapshot.capture import store_tree
from runtui.snapshot.walk import walk
from runtui.store import connection


def make(root: Path, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


@pytest.fixture
def two(tmp_path: Path) -> tuple[sqlite3.Connection, int, int]:
    root = tmp_path / "code"
    make(root, {
        "same.py": b"unchanged\n",
        "train.py": b"lr = 0.1\nepochs = 3\nprint(lr)\n",
        "gone.py": b"old\n",
        "run.sh": b"echo\n",
        "w.bin": b"\0\1\2" * 10,
        "tail.txt": b"no newline",
    })  # fmt: skip
    conn = connection.connect(tmp_path / "store", create=True)
    first = store_tree(conn, walk(root)).snapshot_id
    (root / "train.py").write_bytes(b"lr = 0.2\nepochs = 3\nprint(lr)\nprint('done')\n")
    (root / "gone.py").unlink()
    (root / "new.py").write_bytes(b"a\nb\n")
    (root / "run.sh").chmod(0o755)
    (root / "w.bin").write_bytes(b"\0\1\3" * 10)
    (root / "tail.txt").write_bytes(b"no newline!")
    os.symlink("train.py", root / "link.py")
    second = store_tree(conn, walk(root)).snapshot_id
    return conn, first, second


def test_changes_are_classified_with_line_counts(two: tuple) -> None:
    conn, first, second = two
    diff = diff_snapshots(conn, first, second)
    got = {c.path: (c.status, c.added, c.removed, c.binary) for c in diff.changes}
    assert got == {
        "gone.py": (REMOVED, 0, 1, False),
        "link.py": (ADDED, 1, 0, False),
        "new.py": (ADDED, 2, 0, False),
        "run.sh": (MODE, 0, 0, False),
        "tail.txt": (MODIFIED, 1, 1, False),
        "train.py": (MODIFIED, 2, 1, False),
        "w.bin": (MODIFIED, None, None, True),
    }
    assert diff.summary() == "7 files changed, 6 insertions(+), 3 deletions(-)"
    assert diff_snapshots(conn, first, first).same


def test_file_diff_is_git_style(two: tuple) -> None:
    conn, first, second = two
    changes = {c.path: c for c in diff_snapshots(conn, first, second).changes}
    text = file_diff(conn, changes["train.py"])
    assert text.startswith("diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n")
    assert "-lr = 0.1\n+lr = 0.2\n" in text and "+print('done')\n" in text
    assert "new file mode 100644\n--- /dev/null\n+++ b/new.py" in file_diff(conn, changes["new.py"])
    assert "deleted file mode 100644" in file_diff(conn, changes["gone.py"])
    assert file_diff(conn, changes["run.sh"]).endswith("old mode 100644\nnew mode 100755\n")
    binary = file_diff(conn, changes["w.bin"])
    assert "Binary files a/w.bin and b/w.bin differ (30 B -> 30 B; not shown)" in binary
    assert "\\ No newline at end of file" in file_diff(conn, changes["tail.txt"])
    assert "new file mode 120000" in file_diff(conn, changes["link.py"])


def test_stat_lines_like_git(two: tuple) -> None:
    conn, first, second = two
    lines = diff_snapshots(conn, first, second).stat_lines(80)
    assert " train.py | 3 ++-" in lines
    assert " w.bin    | Bin 30 B -> 30 B" in lines
    assert " run.sh   | mode 100644 -> 100755" in lines


def test_large_files_are_named_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtui.services import codediff

    monkeypatch.setattr(codediff, "MAX_DIFF_BYTES", 100)
    root = tmp_path / "code"
    make(root, {"big.csv": b"x,y\n" * 50})
    conn = connection.connect(tmp_path / "store", create=True)
    first = store_tree(conn, walk(root)).snapshot_id
    make(root, {"big.csv": b"x,z\n" * 50})
    (change,) = diff_snapshots(conn, first, store_tree(conn, walk(root)).snapshot_id).changes
    assert change.too_large and change.added is None
    assert "Large files a/big.csv and b/big.csv differ (200 B -> 200 B; not shown)" in file_diff(
        conn, change
    )


# -- runtui diff ---------------------------------------------------------------------


@pytest.fixture
def runs(tmp_path: Path, store_dir: Path) -> tuple[str, str, str]:
    code = tmp_path / "code"
    make(code, {"train.py": b"lr = 0.1\n"})
    params = {"lr": 0.1, "opt": "adam", "seed": 1}
    with runtui.start_run(params=params, snapshot=str(code), capture_output=False) as a:
        a.log("loss", 1.0)
        a.log("loss", 0.5)
    make(code, {"train.py": b"lr = 0.2\n"})
    with runtui.start_run(
        params={"lr": 0.2, "opt": "adam", "layers": 4}, snapshot=str(code), capture_output=False
    ) as b:
        b.log("loss", 1.0)
        b.log("loss", 0.25)
    with runtui.start_run(params=params, snapshot=False, capture_output=False) as bare:
        bare.log("loss", 1.0)
        bare.log("loss", 0.5)
    return a.id, b.id, bare.id


def diff(*args: str):
    return CliRunner().invoke(main, ["diff", *args])


def test_diff_all_sections_and_exit_codes(runs: tuple[str, str, str]) -> None:
    a, b, _bare = runs
    done = diff(a, b)
    assert done.exit_code == 1
    assert "+layers: 4\n-lr: 0.1\n+lr: 0.2\n-seed: 1\n" in done.output
    assert "opt" not in done.output  # same in both
    table = [line.split() for line in done.output.splitlines()]
    assert ["loss", "last", "0.5", "0.25", "-0.25"] in table
    assert ["min", "0.5", "0.25", "-0.25"] in table and ["max", "1", "1", "0"] in table
    assert "-lr = 0.1\n+lr = 0.2" in done.output
    assert diff(a, a).exit_code == 0 and diff(a, a).output == ""


def test_diff_sections_one_by_one(runs: tuple[str, str, str]) -> None:
    a, b, bare = runs
    params = diff(a, bare, "--params")
    assert params.exit_code == 0 and params.output == ""
    metrics = diff(a, bare, "--metrics")
    assert metrics.exit_code == 0
    code = diff(a, b, "--code")
    assert code.exit_code == 1 and code.output.startswith("diff --git a/train.py b/train.py\n")
    stat = diff(a, b, "--code", "--stat")
    assert stat.output == " train.py | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n"
    both = diff(a, b, "--params", "--metrics", "--stat")
    assert " params: 1 changed, 1 added, 1 removed" in both.output
    assert "metrics: 1 differ" in both.output


def test_diff_errors_exit_2_with_one_line(runs: tuple[str, str, str]) -> None:
    a, _b, bare = runs
    unknown = diff(a, "no-such-run")
    assert unknown.exit_code == 2 and "no-such-run" in unknown.output
    no_snapshot = diff(a, bare, "--code")
    assert no_snapshot.exit_code == 2 and "has no code snapshot" in no_snapshot.output
    assert "Traceback" not in unknown.output + no_snapshot.output


def test_piped_code_diff_is_the_exact_patch(
    tmp_path: Path, store_dir: Path, subprocess_env: dict
) -> None:
    code = tmp_path / "code"
    old = {"screen.txt": b"keep\x1b[2Jclear\n\x1b]0;title\x07\nwin\r\nform\x0cfeed\nend\n"}
    new = {"screen.txt": old["screen.txt"].replace(b"end", b"\x1b[31mred\x1b[0m end")}
    make(code, old)
    with runtui.start_run(snapshot=str(code), capture_output=False) as a:
        pass
    make(code, new)
    with runtui.start_run(snapshot=str(code), capture_output=False) as b:
        pass
    done = subprocess.run(
        [sys.executable, "-m", "runtui", "diff", a.id, b.id, "--code"],
        env=subprocess_env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert b"\x1b[31mred" in done.stdout and b"\x1b]0;title\x07" in done.stdout
    then = tmp_path / "then"
    assert CliRunner().invoke(main, ["checkout", a.id, str(then)]).exit_code == 0
    applied = subprocess.run(["git", "apply"], cwd=then, input=done.stdout, capture_output=True)
    assert applied.returncode == 0, applied.stderr
    assert (then / "screen.txt").read_bytes() == new["screen.txt"]


def test_text_that_is_not_utf8_is_diffed_as_binary(tmp_path: Path, store_dir: Path) -> None:
    code = tmp_path / "latin"
    make(code, {"notes.txt": b"caf\xe9\n"})
    with runtui.start_run(snapshot=str(code), capture_output=False) as a:
        pass
    make(code, {"notes.txt": b"caf\xe9s\n"})
    with runtui.start_run(snapshot=str(code), capture_output=False) as b:
        pass
    done = diff(a.id, b.id, "--code")
    assert done.exit_code == 1
    assert "diff --git a/notes.txt b/notes.txt\nindex " in done.output  # piped: a binary patch
    assert "GIT binary patch\nliteral 6\n" in done.output
    assert "\ufffd" not in done.output


def test_piped_patch_replays_binary_and_large_files_exactly(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtui.services import codediff

    monkeypatch.setattr(codediff, "MAX_DIFF_BYTES", 1000)
    code = tmp_path / "code"
    old = {
        "train.py": b"lr = 0.1\nepochs = 3\n",
        "gone.py": b"bye\n",
        "weights.bin": bytes(range(256)) * 3,
        "old.bin": b"\0old" * 40,
        "notes.txt": b"caf\xe9\n",  # not UTF-8: a binary file
        "big.csv": b"x,y\n" + b"1,2\n" * 400,  # over the large-file threshold
    }
    new = {
        "train.py": b"lr = 0.2\nepochs = 3\n",
        "added.py": b"print('hi')\n",
        "weights.bin": bytes(range(256)) * 2 + bytes(reversed(range(256))),
        "new.bin": bytes(range(100)),
        "notes.txt": b"caf\xe9s\n",
        "big.csv": b"x,z\n" + b"1,2\n" * 399 + b"3,4",
    }
    make(code, old)
    with runtui.start_run(snapshot=str(code), capture_output=False) as a:
        pass
    for rel in set(old) - set(new):
        (code / rel).unlink()
    make(code, new)
    with runtui.start_run(snapshot=str(code), capture_output=False) as b:
        pass
    done = cli("diff", a.id, b.id, "--code")
    assert done.exit_code == 1
    assert b"GIT binary patch" in done.stdout_bytes and b"not shown" not in done.stdout_bytes
    repo = tmp_path / "then"
    assert cli("checkout", a.id, str(repo)).exit_code == 0
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    applied = subprocess.run(
        ["git", "apply"], cwd=repo, input=done.stdout_bytes, capture_output=True
    )
    assert applied.returncode == 0, applied.stderr
    assert {p.name: p.read_bytes() for p in repo.iterdir() if p.is_file()} == new
    undone = subprocess.run(
        ["git", "apply", "-R"], cwd=repo, input=done.stdout_bytes, capture_output=True
    )
    assert undone.returncode == 0, undone.stderr
    assert {p.name: p.read_bytes() for p in repo.iterdir() if p.is_file()} == old
