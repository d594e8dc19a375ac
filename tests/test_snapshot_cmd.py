"""``runtui snapshot --dry-run``: what a run would capture, with sizes and the cap verdict."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from runtui.cli.main import main


def dry_run(*args: str):
    return CliRunner().invoke(main, ["snapshot", *args])


def test_lists_what_would_be_captured(tmp_path: Path, store_dir: Path) -> None:
    (tmp_path / "code" / "data").mkdir(parents=True)
    (tmp_path / "code" / "train.py").write_text("print(1)\n")
    (tmp_path / "code" / "data" / "big.npy").write_bytes(b"0" * 2_000_000)
    (tmp_path / "code" / ".runtuiignore").write_text("*.log\n")
    (tmp_path / "code" / "x.log").write_text("noise")
    done = dry_run("--dry-run", str(tmp_path / "code"))
    assert done.exit_code == 0
    assert done.stdout.splitlines() == ["   6 B  .runtuiignore", "2.0 MB  data/big.npy",
                                        "   9 B  train.py"]  # fmt: skip
    assert "3 files, 2.0 MB" in done.stderr and "rules: .runtuiignore" in done.stderr
    largest = dry_run("--dry-run", "--largest", "1", str(tmp_path / "code"))
    assert largest.stdout.splitlines() == ["2.0 MB  data/big.npy"]
    over = dry_run("--dry-run", "--max-mb", "1", str(tmp_path / "code"))
    assert over.exit_code == 1 and "add the line '/data/'" in over.stderr
    files = dry_run("--dry-run", "--max-files", "2", str(tmp_path / "code"))
    assert files.exit_code == 1 and "over the 2-file cap" in files.stderr


def test_needs_dry_run(tmp_path: Path) -> None:
    done = dry_run(str(tmp_path))
    assert done.exit_code == 2 and "--dry-run" in done.stderr
