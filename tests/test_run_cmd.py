"""``runtui run``: exit codes, output tee, attach via RUNTUI_RUN_ID, signals, snapshot first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import runtui
from runtui.services.runner import IDLE_GIVE_UP_S, param_value, parse_assignments


def runtui_run(args: list[str], env: dict, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "runtui", "run", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60, **kw,
    )  # fmt: skip


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    return folder


def only_run(store_dir: Path):
    (record,) = runtui.open_store(store_dir).runs()
    return record


def test_exit_code_output_params_and_scalars(
    code: Path, store_dir: Path, subprocess_env: dict
) -> None:
    (code / "job.py").write_text(
        "import os, sys\n"
        "print('epoch=1, batch= 2000: loss 2.19')\n"
        "print('to stderr', file=sys.stderr)\n"
        "print(os.environ['PYTHONUNBUFFERED'], os.environ['RUNTUI_STORE'])\n"
        "sys.exit(3)\n"
    )
    done = runtui_run(
        ["-e", "exp", "-n", "job", "-p", "lr=1e-4", "-p", "layers=4", "-p", "opt=adam",
         "-t", "team=nlp", "--scalars", "--", sys.executable, "job.py"],
        subprocess_env, code,
    )  # fmt: skip
    assert done.returncode == 3
    assert "epoch=1, batch= 2000: loss 2.19" in done.stdout  # shown live
    assert "to stderr" in done.stderr
    record = only_run(store_dir)
    assert (record.status, record.error, record.exit_code) == ("failed", "exit code 3", 3)
    assert (record.experiment, record.name, record.tags) == ("exp", "job", {"team": "nlp"})
    assert record.params == {"lr": 1e-4, "layers": 4, "opt": "adam"}
    assert {k: s.last for k, s in record.summary.items()} == {
        "epoch": 1,
        "batch": 2000,
        "loss": 2.19,
    }
    log = runtui.open_store(store_dir).log_path(record).read_text()
    assert "loss 2.19" in log and "to stderr" in log and f"1 {store_dir}" in log
    assert record.snapshot_id is not None


def test_the_log_keeps_each_streams_lines_whole(
    code: Path, store_dir: Path, subprocess_env: dict
) -> None:
    (code / "job.py").write_text(
        "import os, time\n"
        "os.write(1, b'epoch 1:')\n"  # an unbuffered print(a, b) comes in pieces...
        "os.write(2, b'warning: slow\\n')\n"  # ...and the other stream writes between them
        "os.write(1, b' loss 0.5\\n')\n"
        "os.write(2, b'  3%|bar')\n"  # a progress bar's state, never ended
        "time.sleep(1)\n"  # longer than the log waits for a line's end
        "os.write(1, b'epoch 2: loss 0.4\\n')\n"
    )
    done = runtui_run(["-n", "pieces", "--", sys.executable, "job.py"], subprocess_env, code)
    assert done.returncode == 0, done.stderr
    log = runtui.open_store(store_dir).log_path(only_run(store_dir)).read_text()
    first, second, third, end = log.split("\n")  # the streams' order between them may vary
    assert sorted([first, second]) == ["epoch 1: loss 0.5", "warning: slow"]
    assert (third, end) == ("  3%|barepoch 2: loss 0.4", "")  # as a terminal shows it


def test_script_calling_init_attaches_to_the_run(
    code: Path, store_dir: Path, subprocess_env: dict
) -> None:
    (code / "train.py").write_text(
        "import runtui\n"
        "run = runtui.init('ignored-experiment', params={'from_script': 1})\n"
        "for step in range(5):\n"
        "    runtui.log('acc', step / 10)\n"
        "print('run id', run.uuid)\n"
    )
    done = runtui_run(["-e", "mnist", "--", sys.executable, "train.py"], subprocess_env, code)
    assert done.returncode == 0, done.stderr
    record = only_run(store_dir)  # one run: the script's init() did not make another
    assert record.status == "completed" and record.experiment == "mnist"
    assert f"run id {record.uuid}" in done.stdout
    assert record.summary["acc"].count == 5 and record.summary["acc"].last == 0.4
    assert record.params == {"from_script": 1}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_are_forwarded_and_the_run_is_canceled(
    code: Path, store_dir: Path, subprocess_env: dict, sig: signal.Signals
) -> None:
    (code / "slow.py").write_text(
        "import signal, sys, time\n"
        "def bye(signum, frame):\n"
        "    print('child got', signal.Signals(signum).name, flush=True)\n"
        "    sys.exit(7)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "signal.signal(signal.SIGINT, bye)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "runtui", "run", "--", sys.executable, "slow.py"],
        env=subprocess_env, cwd=code, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # no terminal: the runner itself must forward
    )  # fmt: skip
    assert runner.stdout.readline() == "ready\n"
    runner.send_signal(sig)
    out, _err = runner.communicate(timeout=30)
    assert f"child got {sig.name}" in out
    assert runner.returncode == 7  # the child's own exit code
    record = only_run(store_dir)
    assert record.status == "canceled" and record.error == f"canceled by {sig.name}"


def invoke(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch):
    """``runtui run`` in this process (for what needs no real terminal or signals)."""
    from click.testing import CliRunner

    from runtui.cli.main import main

    monkeypatch.chdir(cwd)
    return CliRunner().invoke(main, ["run", *args])


def test_command_that_cannot_start(
    code: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = invoke(["--", "no-such-command-xyz"], code, monkeypatch)
    assert done.exit_code == 127
    assert done.output.strip().splitlines()[-1] == (
        "runtui: error: cannot start 'no-such-command-xyz': command not found"
    )
    record = only_run(store_dir)
    assert record.status == "failed" and "cannot start" in record.error


def test_over_the_snapshot_cap_stops_before_the_command(
    code: Path, store_dir: Path, subprocess_env: dict
) -> None:
    (code / "data.bin").write_bytes(b"0" * 2_000_000)
    (code / "job.py").write_text("open('started', 'w').close()\n")
    env = {**subprocess_env, "RUNTUI_SNAPSHOT_MAX_MB": "1"}
    done = runtui_run(["--", sys.executable, "job.py"], env, code)
    assert done.returncode == 2
    assert "over the 1.0 MB cap (set by RUNTUI_SNAPSHOT_MAX_MB)" in done.stderr
    assert "data.bin" in done.stderr and ".runtuiignore" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (code / "started").exists()
    assert only_run(store_dir).status == "failed"


def test_a_flat_folder_over_the_file_cap_stops_before_the_command(
    code: Path, store_dir: Path, subprocess_env: dict
) -> None:
    for name in ("model.py", "data.py"):
        (code / name).write_text("x = 1\n")
    (code / "job.py").write_text("open('started', 'w').close()\n")
    done = runtui_run(
        ["--snapshot-max-files", "2", "--", sys.executable, "job.py"], subprocess_env, code
    )
    assert done.returncode == 2, done.stderr
    (message,) = done.stderr.splitlines()
    assert message.startswith("runtui: error: code snapshot of")
    assert "3 files, over the 2-file cap (set by --snapshot-max-files)" in message
    assert not (code / "started").exists()
    record = only_run(store_dir)
    assert record.status == "failed" and "over the 2-file cap" in record.error


def test_bad_arguments_are_one_line_errors(
    code: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_command = invoke([], code, monkeypatch)
    bad_param = invoke(["-p", "lr", "--", "true"], code, monkeypatch)
    bad_regex = invoke(["--scalars-regex", "(", "--", "true"], code, monkeypatch)
    no_experiment = invoke(["-e", "", "--", "true"], code, monkeypatch)
    blank_name = invoke(["-n", " ", "--", "true"], code, monkeypatch)
    for done in (no_command, bad_param, bad_regex, no_experiment, blank_name):
        assert done.exit_code == 2 and "Traceback" not in done.output
        assert len(done.output.strip().splitlines()) == 1
    assert "no command given" in no_command.output
    assert "--param 'lr': expected KEY=VALUE" in bad_param.output
    assert "--scalars-regex '('" in bad_regex.output
    assert no_experiment.output == "runtui: error: --experiment must not be empty\n"
    assert blank_name.output == "runtui: error: --name must not be empty\n"
    assert not store_dir.exists()  # nothing was started


def test_param_values_that_look_like_numbers_are_numbers() -> None:
    assert [param_value(v) for v in ["3", "-2", "1e-4", ".5", "0.1", "adam", "1.2.3", "nan"]] == [
        3, -2, 1e-4, 0.5, 0.1, "adam", "1.2.3", "nan",
    ]  # fmt: skip
    assert parse_assignments(["a=1=2"], "tag", numbers=False) == {"a": "1=2"}


def test_exit_zero_is_completed(
    code: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = invoke(["--no-snapshot", "--", "true"], code, monkeypatch)
    assert done.exit_code == 0
    record = only_run(store_dir)
    assert record.status == "completed" and record.exit_code == 0 and record.snapshot_id is None


def test_params_that_would_not_read_back_as_typed_stay_strings() -> None:
    huge = str(2**70)
    assert parse_assignments(
        ["n=010", "big=" + huge, "neg=-2", "zero=0", "frac=0.5", "over=1e999"], "param", True
    ) == {"n": "010", "big": huge, "neg": -2, "zero": 0, "frac": 0.5, "over": "1e999"}


def test_huge_integer_param_is_stored_as_text(
    code: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = str(2**64)
    done = invoke(
        ["--no-snapshot", "-p", f"big={huge}", "-p", "n=010", "--", "true"], code, monkeypatch
    )
    assert done.exit_code == 0, done.output
    assert only_run(store_dir).params == {"big": huge, "n": "010"}


def test_every_line_arrives_when_the_output_is_read_slowly(
    code: Path, store_dir: Path, subprocess_env: dict
) -> None:
    lines = 3000  # more than the two pipe buffers hold: the copy outlives the command
    runner = subprocess.Popen(
        [sys.executable, "-m", "runtui", "run", "--no-snapshot", "--", sys.executable, "-c",
         f"for i in range({lines}): print(i, 'y' * 40)"],
        env=subprocess_env, cwd=code, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(IDLE_GIVE_UP_S + 1)  # the command is long done; our reading has not begun
    out = runner.stdout.read().decode()
    assert runner.wait(timeout=30) == 0
    assert len(out.splitlines()) == lines and out.endswith(f"{lines - 1} {'y' * 40}\n")
    log = runtui.open_store(store_dir).log_path(only_run(store_dir)).read_text()
    assert len(log.splitlines()) == lines


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"  # a zombie has stopped running; its new parent may never reap it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux")
def test_killing_the_runner_stops_its_command(code: Path, subprocess_env: dict) -> None:
    runner = subprocess.Popen(
        [sys.executable, "-m", "runtui", "run", "--no-snapshot", "--", sys.executable, "-c",
         "import os, time; print(os.getpid(), flush=True); time.sleep(60)"],
        env=subprocess_env, cwd=code, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    child = int(runner.stdout.readline())
    runner.kill()
    runner.wait(timeout=10)
    deadline = time.monotonic() + 5
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not _gone(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the command outlived its runner")
