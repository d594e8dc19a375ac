"""``runtui diff`` on the compare fixture: same code exits 0, params lines, unknown runs named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import add_run, cli, cli_into_closed_pipe
from click.testing import CliRunner
from compare_data import UUIDS, build_store

from runtui.cli.main import main


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("diff") / "store")


def diff(store: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["diff", "--store", str(store), *args])


def test_same_code_exits_0_with_no_output(store: Path) -> None:
    done = diff(store, UUIDS["B"][:8], UUIDS["C"][:8], "--code")
    assert (done.exit_code, done.output) == (0, "")


def test_params_as_minus_plus_lines_in_key_order(store: Path) -> None:
    done = diff(store, "resnet-lr0.1", "resnet-lr0.05", "--params")
    assert done.exit_code == 1
    assert done.output == "-batch_size: 32\n+batch_size: 64\n-lr: 0.1\n+lr: 0.05\n+wd: 0.01\n"


def test_metrics_only_in_one_run_make_a_difference(store: Path) -> None:
    done = diff(store, UUIDS["A"], UUIDS["B"], "--metrics", "--stat")
    assert done.exit_code == 1
    assert "1 only in 0000000b" in done.output


@pytest.mark.parametrize("order", ["first", "second"])
def test_an_unknown_run_is_named_exit_2(store: Path, order: str) -> None:
    refs = ["no-such-run", "resnet-lr0.1"] if order == "first" else ["resnet-lr0.1", "no-such-run"]
    done = diff(store, *refs)
    assert done.exit_code == 2
    assert "no-such-run" in done.output and "Traceback" not in done.output
    assert len(done.output.strip().splitlines()) == 1


def test_params_print_as_show_prints_them_one_line_each(store_dir: Path) -> None:
    add_run(store_dir, "a", params={
        "flag": True, "none": None, "lst": [1, "two", 3.0], "nested": {"a": {"b": None}},
        "nl": "line1\nline2", "i": 1, "empty": "", "yes": True, "opt": "adam",
    })  # fmt: skip
    add_run(store_dir, "b", params={"i": 1.0, "empty": None, "yes": "true", "opt": "adam "})
    done = cli("diff", "a", "b", "--params")
    assert done.exit_code == 1
    assert done.output.splitlines() == [
        '-empty: ""',  # values show prints blank or blurred are written as JSON
        "+empty: null",
        "-flag: true",
        "-i: 1",
        "+i: 1.0",
        '-lst: [1, "two", 3.0]',
        '-nested: {"a": {"b": null}}',
        '-nl: "line1\\nline2"',
        "-none: null",
        "-opt: adam",
        '+opt: "adam "',
        "-yes: true",  # both print true in show: JSON tells the bool from the text
        '+yes: "true"',
    ]


def test_floats_that_print_differently_differ(store_dir: Path) -> None:
    add_run(store_dir, "a", params={"x": 0.3, "y": 1.0, "z": float("nan")})
    add_run(store_dir, "b", params={"x": 0.1 + 0.2, "y": 1.0000000000000002, "z": float("nan")})
    done = cli("diff", "a", "b", "--params")
    assert done.exit_code == 1
    assert done.output.splitlines() == [
        "-x: 0.3",
        "+x: 0.30000000000000004",
        "-y: 1.0",
        "+y: 1.0000000000000002",
    ]  # z: NaN in both is the same value


def test_a_closed_pipe_keeps_the_exit_status_quietly(store_dir: Path) -> None:
    add_run(store_dir, "a", params={"lr": 0.1})
    add_run(store_dir, "b", params={"lr": 0.2})
    env = {"RUNTUI_STORE": str(store_dir)}
    assert cli_into_closed_pipe("diff", "a", "b", "--params", env=env) == (1, "")
    assert cli_into_closed_pipe("diff", "a", "a", "--params", env=env) == (0, "")
    assert cli_into_closed_pipe("ls", env=env) == (0, "")  # as every other command


def test_on_a_terminal_without_colour_no_escape_sequence_gets_through(
    store_dir: Path, tmp_path: Path
) -> None:
    import pty
    import subprocess
    import sys

    import runtui

    for name, text in (("a", "print('\x1b]0;pwned\x07')\n"), ("b", "print('\x1b[2J')\n")):
        code = tmp_path / name
        code.mkdir()
        (code / "train.py").write_text(text)
        with runtui.start_run("e", name=name, snapshot=code, capture_output=False) as run:
            run.log({"loss\x1b[31m": 1.0 if name == "a" else 2.0})
    leader, follower = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "RUNTUI_STORE": str(store_dir)}
    with subprocess.Popen(
        [sys.executable, "-m", "runtui", "diff", "a", "b"], stdout=follower, env=env
    ) as proc:
        os.close(follower)
        shown = b""
        while chunk := _read(leader):
            shown += chunk
        assert proc.wait(30) == 1
    os.close(leader)
    assert b"train.py" in shown and b"loss" in shown
    assert b"\x1b" not in shown and b"\x07" not in shown


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the other end closed
        return b""
