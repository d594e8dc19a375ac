"""What goes into a snapshot: .runtuiignore, the .gitignore fallback, and what is always out."""

from __future__ import annotations

import os
from pathlib import Path

from runtui.snapshot.walk import walk


def make(root: Path, *paths: str) -> None:
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {rel}\n")


def listed(root: Path, exclude: tuple[Path, ...] = ()) -> set[str]:
    return {e.path for e in walk(root, exclude=exclude).entries}


def test_runtuiignore_globs_negation_anchors_dirs_and_double_star(tmp_path: Path) -> None:
    make(
        tmp_path,
        "train.py", "run1/model.ckpt", "run1/best.ckpt", "scratch/notes.txt",
        "src/scratch/kept.txt", "logs/a/b/x.tmp", "logs/a/b/x.txt", "build/out.o",
        "build/keep.txt", "src/build/y.txt",
    )  # fmt: skip
    (tmp_path / ".runtuiignore").write_text(
        "*.ckpt\n!best.ckpt\n/scratch/\nlogs/**/*.tmp\nbuild/\n!build/keep.txt\n# comment\n"
    )
    assert listed(tmp_path) == {
        ".runtuiignore",
        "train.py",
        "run1/best.ckpt",  # negation re-includes
        "src/scratch/kept.txt",  # /scratch/ is anchored at the root
        "logs/a/b/x.txt",  # ** only drops the .tmp
    }  # build/ is not entered, so !build/keep.txt cannot bring a file back (as in git)


def test_runtuiignore_replaces_gitignore(tmp_path: Path) -> None:
    make(tmp_path, "a.py", "data.csv", "b.log")
    (tmp_path / ".gitignore").write_text("*.csv\n")
    (tmp_path / ".runtuiignore").write_text("*.log\n")
    assert listed(tmp_path) == {".gitignore", ".runtuiignore", "a.py", "data.csv"}


def test_gitignore_fallback_with_nested_files_and_info_exclude(tmp_path: Path) -> None:
    make(
        tmp_path,
        "a.py", "out.log", "data/big.bin", "pkg/mod.py", "pkg/gen.py", "pkg/keep.log",
        "pkg/deep/gen.py", "secret.txt",
    )  # fmt: skip
    (tmp_path / ".gitignore").write_text("*.log\n/data/\n")
    (tmp_path / "pkg" / ".gitignore").write_text("/gen.py\n!keep.log\n")
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("secret.txt\n")
    assert listed(tmp_path) == {
        ".gitignore",
        "a.py",
        "pkg/.gitignore",
        "pkg/mod.py",
        "pkg/keep.log",  # the deeper .gitignore wins
        "pkg/deep/gen.py",  # /gen.py is anchored to pkg/
    }


def test_always_out_git_store_venv_pycache_node_modules(tmp_path: Path) -> None:
    make(
        tmp_path,
        "a.py", ".git/config", "__pycache__/a.cpython-311.pyc", "pkg/__pycache__/b.pyc",
        "node_modules/x/index.js", "env/pyvenv.cfg", "env/lib/site.py", "tools/venv2/pyvenv.cfg",
        "tools/venv2/bin/python", "mystore/runtui.db", ".runtui/runtui.db", "notavenv/cfg.txt",
    )  # fmt: skip
    assert listed(tmp_path, exclude=(tmp_path / "mystore",)) == {"a.py", "notavenv/cfg.txt"}


def test_negation_cannot_bring_back_always_out(tmp_path: Path) -> None:
    make(tmp_path, "a.py", "__pycache__/x.pyc")
    (tmp_path / ".runtuiignore").write_text("!__pycache__/\n!*.pyc\n")
    assert listed(tmp_path) == {".runtuiignore", "a.py"}


def test_symlinks_are_recorded_not_followed_and_modes_kept(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    make(outside, "secret.txt", "dir/file.txt")
    root = tmp_path / "root"
    make(root, "run.sh", "lib/util.py")
    (root / "run.sh").chmod(0o755)
    (root / "lib" / "util.py").chmod(0o600)
    os.symlink(outside / "secret.txt", root / "abs-link")
    os.symlink("../outside/dir", root / "dir-link")
    os.symlink("lib/util.py", root / "rel-link")
    entries = {e.path: e for e in walk(root).entries}
    assert set(entries) == {"run.sh", "lib/util.py", "abs-link", "dir-link", "rel-link"}
    assert entries["dir-link"].link == "../outside/dir"  # never entered
    assert entries["abs-link"].link == str(outside / "secret.txt")
    assert entries["run.sh"].mode == 0o755 and entries["lib/util.py"].mode == 0o600
