"""``runtui snapshot --dry-run``: what a run would capture, with sizes and the cap verdict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtui.cli.main import main


def dry_run(*args: str):
    return CliRunner().invoke(main, ["snapshot", *args])


def flat_folder(root: Path, sizes: dict[str, int]) -> Path:
    """A folder with only top-level files, of the given sizes."""
    root.mkdir()
    for name, size in sizes.items():
        (root / name).write_bytes(b"x" * size)
    return root


def add_suggested_lines(message: str, root: Path) -> list[str]:
    """Write the lines an over-the-cap message suggests into ``root/.runtuiignore``, as told."""
    listed = re.search(r"add the lines? (.+?) to (\S+\.runtuiignore)", message)
    assert listed is not None, message
    assert listed.group(2) == str(root / ".runtuiignore")
    lines = re.findall(r"'([^']*)'", listed.group(1))
    (root / ".runtuiignore").write_text("".join(line + "\n" for line in lines))
    return lines


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


def test_a_flat_folder_over_the_file_cap_gets_lines_that_bring_it_under(tmp_path: Path) -> None:
    sizes = {"train.py": 300, "model.py": 200, "notes.txt": 5, "labels.csv": 5000, "vocab.json": 50}
    code = flat_folder(tmp_path / "code", sizes)
    over = dry_run("--dry-run", "--max-files", "3", str(code))
    assert over.exit_code == 1
    (message,) = [line for line in over.stderr.splitlines() if "error" in line]
    assert message.startswith("runtui: error: code snapshot of")
    assert "5 files, over the 3-file cap (set by --max-files)" in message
    assert ".gitignore" not in message  # there is none to start from
    # the .runtuiignore the lines go into is one more file: three lines, not two;
    # and never the code the run ran (train.py, model.py)
    assert add_suggested_lines(message, code) == ["*.csv", "/vocab.json", "/notes.txt"]
    fits = dry_run("--dry-run", "--max-files", "3", str(code))
    assert fits.exit_code == 0, fits.stderr
    kept = sorted(line.split()[-1] for line in fits.stdout.splitlines())
    assert kept == [".runtuiignore", "model.py", "train.py"]
    tighter = dry_run("--dry-run", "--max-files", "2", str(code))
    assert "add the line" not in tighter.stderr and "no 5 lines" in tighter.stderr


def test_over_the_size_cap_the_lines_suggested_are_enough_together(tmp_path: Path) -> None:
    code = flat_folder(tmp_path / "code", {"train.py": 600, "notes[1]": 500, "data.json": 1000})
    over = dry_run("--dry-run", "--max-mb", "0.001", str(code))
    assert over.exit_code == 1
    assert "2.1 KB in 3 files, over the 1.0 KB cap (set by --max-mb)" in over.stderr
    assert add_suggested_lines(over.stderr, code) == ["/data.json", "/notes\\[1]"]
    fits = dry_run("--dry-run", "--max-mb", "0.001", str(code))
    assert fits.exit_code == 0, fits.stderr
    assert "2 files, 622 B" in fits.stderr


@pytest.mark.parametrize("cap", ["inf", "nan"])
def test_a_cap_that_is_not_a_number_is_one_line(tmp_path: Path, cap: str) -> None:
    code = flat_folder(tmp_path / "code", {"train.py": 10})
    done = dry_run("--dry-run", "--max-mb", cap, str(code))
    assert done.exit_code == 2
    assert done.stderr == "runtui: error: snapshot caps must be 0 (no cap) or a positive number\n"


def test_the_cap_message_names_what_set_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = flat_folder(tmp_path / "code", {"a.bin": 2000, "b.bin": 2000})
    monkeypatch.setenv("RUNTUI_SNAPSHOT_MAX_MB", "0.003")
    by_env = dry_run("--dry-run", str(code))
    assert "over the 3.0 KB cap (set by RUNTUI_SNAPSHOT_MAX_MB)" in by_env.stderr
    by_option = dry_run("--dry-run", "--max-mb", "0.001", str(code))
    assert "over the 1.0 KB cap (set by --max-mb)" in by_option.stderr
    assert "RUNTUI_SNAPSHOT_MAX_MB" not in by_option.stderr
    monkeypatch.delenv("RUNTUI_SNAPSHOT_MAX_MB")
    with (code / "a.bin").open("r+b") as sparse:  # 301 MB on paper, no disk used
        sparse.truncate(301_000_000)
    by_default = dry_run("--dry-run", str(code))
    assert (
        "over the 300.0 MB cap (the default; --max-mb or RUNTUI_SNAPSHOT_MAX_MB sets another)"
        in by_default.stderr
    )


def test_when_no_few_lines_would_do_the_message_says_so(tmp_path: Path) -> None:
    code = flat_folder(tmp_path / "code", {f"m{i}.py": 10 for i in range(8)})
    over = dry_run("--dry-run", "--max-files", "1", str(code))
    assert over.exit_code == 1 and "Traceback" not in over.stderr
    assert "add the line" not in over.stderr
    assert f"no 5 lines or fewer in {code / '.runtuiignore'} would get it under" in over.stderr
    assert "raise the cap, or turn snapshots off" in over.stderr


def test_help_calls_the_argument_folder_as_its_usage_line_does() -> None:
    shown = dry_run("--help").stdout
    assert "Usage: main snapshot [OPTIONS] [FOLDER]" in shown
    assert "(FOLDER: default the git" in shown and "DIR" not in shown


def test_largest_0_lists_no_file_and_a_negative_count_is_refused(tmp_path: Path) -> None:
    code = flat_folder(tmp_path / "code", {"a.py": 10, "b.py": 20})
    none = dry_run("--dry-run", "--largest", "0", str(code))
    assert none.exit_code == 0 and none.stdout == ""
    assert "2 files, 30 B" in none.stderr
    negative = dry_run("--dry-run", "--largest", "-1", str(code))
    assert negative.exit_code == 2 and "'--largest': -1 is not in the range x>=0" in negative.stderr


def test_file_names_in_the_cap_message_never_carry_escape_sequences(tmp_path: Path) -> None:
    code = flat_folder(tmp_path / "code", {"train.py": 10, "big\x1b]0;pwned\x07.bin": 5000})
    over = dry_run("--dry-run", "--max-mb", "0.001", str(code))
    assert over.exit_code == 1 and "big" in over.stderr
    assert "\x1b" not in over.stderr and "\x07" not in over.stderr
