"""``runtui tail``: last lines, following a live run, Ctrl-C, bad refs."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cli_helpers import add_run, cli

from runtui.cli.cmd_tail import _for_terminal

# Prints what the test sends on stdin (``\\r`` and ESC spelled as escapes),
# without a newline when the command is "write".
WRITER = r"""
import sys, runtui
run = runtui.start_run(experiment="tail", name=sys.argv[1], snapshot=False)
open(sys.argv[2], "w").write(run.uuid)
for command in sys.stdin:
    verb, _, arg = command.rstrip("\n").partition(" ")
    arg = arg.encode().decode("unicode_escape")
    if verb == "finish":
        break
    sys.stdout.write(arg + ("\n" if verb == "print" else ""))
    sys.stdout.flush()
run.finish()
"""


def start_writer(env: dict[str, str], tmp: Path, name: str) -> subprocess.Popen[str]:
    id_file = tmp / f"{name}.id"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, name, str(id_file)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 10
    while not (id_file.exists() and id_file.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, "writer did not start"
        time.sleep(0.02)
    return proc


def wait_for_log(env: dict[str, str], tmp: Path, name: str, text: bytes) -> None:
    """Wait until the run's captured output holds ``text``."""
    uuid = (tmp / f"{name}.id").read_text()
    log = Path(env["RUNTUI_STORE"]) / "logs" / f"{uuid}.log"
    deadline = time.monotonic() + 10
    while text not in (log.read_bytes() if log.exists() else b""):
        assert time.monotonic() < deadline, f"{text!r} never reached {log}"
        time.sleep(0.02)


def send(proc: subprocess.Popen[str], *commands: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write("".join(c + "\n" for c in commands))
    proc.stdin.flush()


def tail(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runtui", "tail", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Lines:
    """Collects a process's stdout lines as they come."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stdout is not None
        stream = proc.stdout
        self.thread = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self.thread.start()

    def wait_for(self, line: str, timeout: float = 6.0) -> None:
        deadline = time.monotonic() + timeout
        while line + "\n" not in self.lines:
            assert time.monotonic() < deadline, f"{line!r} not in {self.lines}"
            time.sleep(0.02)


def test_last_lines_cleaned_for_a_pipe(subprocess_env: dict[str, str], tmp_path: Path):
    writer = start_writer(subprocess_env, tmp_path, "done")
    send(
        writer,
        r"print one",
        r"print 10%\r50%\r100%",
        r"print \x1b[31mred\x1b[0m \x1b]0;title\x07ok",
    )
    send(writer, "finish")
    assert writer.wait(10) == 0
    done = subprocess.run(
        [sys.executable, "-m", "runtui", "tail", "done", "-n", "2"],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "100%\nred ok\n"


def test_follow_prints_new_lines_and_exits_when_the_run_ends(
    subprocess_env: dict[str, str], tmp_path: Path
):
    writer = start_writer(subprocess_env, tmp_path, "live")
    send(writer, "print old", "print last")
    wait_for_log(subprocess_env, tmp_path, "live", b"last\n")
    follower = tail(subprocess_env, "live", "-f", "-n", "1")
    out = Lines(follower)
    out.wait_for("last")
    send(writer, "print fresh", "write unfinished")
    out.wait_for("fresh")
    send(writer, "finish")
    assert writer.wait(10) == 0
    assert follower.wait(10) == 0
    out.thread.join(5)
    assert out.lines == ["last\n", "fresh\n", "unfinished\n"]
    assert follower.stderr is not None
    assert re.fullmatch(r"runtui: run [0-9a-f]{8} completed\n", follower.stderr.read())


def test_follow_says_how_an_ended_run_ended_and_when_nothing_was_captured(
    store_dir: Path, subprocess_env: dict[str, str]
):
    uuid = add_run(store_dir, "silent", status="crashed")
    for args in (["-f"], []):
        done = subprocess.run(
            [sys.executable, "-m", "runtui", "tail", "silent", *args],
            env=subprocess_env, capture_output=True, text=True, timeout=20,
        )  # fmt: skip
        assert done.returncode == 0 and done.stdout == ""
        said = [f"runtui: run {uuid[:8]} captured no output"]
        said += [f"runtui: run {uuid[:8]} crashed"] if args else []
        assert done.stderr.splitlines() == said


def test_ctrl_c_exits_130_quietly(subprocess_env: dict[str, str], tmp_path: Path):
    writer = start_writer(subprocess_env, tmp_path, "long")
    send(writer, "print started")
    follower = tail(subprocess_env, "long", "-f")
    out = Lines(follower)
    out.wait_for("started")
    follower.send_signal(signal.SIGINT)
    assert follower.wait(10) == 130
    assert follower.stderr is not None and follower.stderr.read() == ""
    send(writer, "finish")
    writer.wait(10)


def test_unknown_run_is_one_line_and_exit_2(subprocess_env: dict[str, str], tmp_path: Path):
    writer = start_writer(subprocess_env, tmp_path, "exists")
    send(writer, "finish")
    writer.wait(10)
    done = subprocess.run(
        [sys.executable, "-m", "runtui", "tail", "nosuchrun", "-f"],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "nosuchrun" in done.stderr


def test_on_a_terminal_colours_stay_but_cursor_moves_and_titles_go():
    raw = "\x1b[2J\x1b[1;1H\x1b]2;pwned\x07\x1b[32mgreen\x1b[0m text\x9b5A"
    assert _for_terminal(raw) == "\x1b[32mgreen\x1b[0m text\x1b[0m"


def test_a_store_error_while_following_is_one_line(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import runtui
    from runtui.live import ChangeFeed

    run = runtui.start_run("tail", name="followed", snapshot=False, capture_output=False)

    def broken(self, deliver, stop):  # type: ignore[no-untyped-def]
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(ChangeFeed, "run", broken)
    try:
        result = cli("tail", run.id, "-f")
    finally:
        run.finish()
    assert result.exit_code == 2
    assert (
        result.stderr == "runtui: error: cannot use the store: database disk image is malformed\n"
    )


def test_on_a_terminal_the_line_being_written_is_redrawn_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import os

    from runtui.cli.cmd_tail import _Printer

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setattr("shutil.get_terminal_size", lambda: os.terminal_size((21, 5)))
    emit = _Printer()
    emit(["epoch 1"], " 10%|#")
    emit([], " 20%|##\x1b]0;t\x07")  # redrawn; nothing unsafe reaches the terminal
    emit([], " 30%|### " + "x" * 40)  # cut to the width: a wrapped line cannot be redrawn
    emit([], "\t40%|#### 中文中文中文")  # tabs and wide characters count as the terminal shows them
    emit(["100%|##########"], "")  # the bar's line ended: cleared, printed as a line
    emit([], "next epoch 1%")
    emit.close()  # stopped: the line stays, the prompt goes below it
    redraw = "\r\x1b[2K"
    assert screen.getvalue() == (
        "epoch 1\n 10%|#" + redraw + " 20%|##" + redraw + " 30%|### xxxxxxxxxxx"
        + redraw + "        40%|#### 中 " + redraw + "100%|##########\n"
        + "next epoch 1%\n"
    )  # fmt: skip
