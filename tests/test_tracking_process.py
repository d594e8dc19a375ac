"""The logging module across real processes: crashes, signals, contention, capture, spills."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import runtui

PYTHON = sys.executable


def spawn(script: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "-c", textwrap.dedent(script)],
        env=env,
        start_new_session=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen[str], expected: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if expected in line:
            return
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"{expected!r} never printed; stderr: {proc.stderr.read()}")


def only_run(store_dir: Path):
    runs = runtui.open_store(store_dir).runs()
    assert len(runs) == 1
    return runs[0]


def test_kill_9_keeps_points_older_than_a_second_and_reads_crashed(
    store_dir: Path, subprocess_env: dict[str, str]
) -> None:
    proc = spawn(
        """
        import time, runtui
        run = runtui.start_run("crash", snapshot=False, capture_output=False)
        for i in range(1000):
            run.log("loss", 1.0 / (i + 1), step=i)
        time.sleep(1.2)
        print("logged", flush=True)
        i = 1000
        while True:
            run.log("loss", 0.0, step=i)
            i += 1
            time.sleep(0.001)
        """,
        subprocess_env,
    )
    try:
        wait_for_line(proc, "logged")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    run = only_run(store_dir)
    assert run.status == "crashed"
    steps = [s for s, _, _ in run.history("loss")]
    assert steps[:1000] == list(range(1000))
    assert run.ended_at is not None


def test_eight_processes_logging_at_once_lose_nothing(
    store_dir: Path, subprocess_env: dict[str, str]
) -> None:
    script = """
        import runtui, sys
        opts = dict(snapshot=False, capture_output=False)
        with runtui.start_run("sweep", name=sys.argv[1], **opts) as run:
            for i in range(20_000):
                run.log("loss", i * 0.5, step=i)
        print("done", flush=True)
        """
    procs = [
        subprocess.Popen(
            [PYTHON, "-c", textwrap.dedent(script), f"worker-{n}"],
            env=subprocess_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "done" in out and err == ""
    runs = runtui.open_store(store_dir).runs()
    assert len(runs) == 8
    for run in runs:
        assert run.status == "completed"
        assert run.summary["loss"].count == 20_000
        assert len(run.history("loss")) == 20_000


@pytest.mark.parametrize(
    ("script", "status", "error_part"),
    [
        ("raise ValueError('boom')", "failed", "ValueError: boom"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", "canceled", "SIGTERM"),
        ("raise KeyboardInterrupt", "canceled", "KeyboardInterrupt"),
        ("pass", "completed", None),
    ],
)
def test_how_a_script_ends_is_its_status(
    store_dir: Path, subprocess_env: dict[str, str], script: str, status: str, error_part: str
) -> None:
    proc = spawn(
        f"""
        import runtui
        runtui.init("ends", snapshot=False, capture_output=False)
        runtui.log("loss", 1.0)
        {script}
        """,
        subprocess_env,
    )
    proc.communicate(timeout=30)
    run = only_run(store_dir)
    assert run.status == status
    assert run.summary["loss"].count == 1
    if error_part:
        assert error_part in (run.error or "")


def test_user_sigterm_handler_is_left_alone(
    store_dir: Path, subprocess_env: dict[str, str]
) -> None:
    proc = spawn(
        """
        import os, signal, runtui
        seen = []
        signal.signal(signal.SIGTERM, lambda *a: seen.append(1))
        runtui.init("mine", snapshot=False, capture_output=False)
        os.kill(os.getpid(), signal.SIGTERM)
        print("handler ran" if seen else "handler lost", flush=True)
        """,
        subprocess_env,
    )
    out, _ = proc.communicate(timeout=30)
    assert "handler ran" in out
    assert only_run(store_dir).status == "completed"


def test_output_is_teed_at_the_fd_level(store_dir: Path, subprocess_env: dict[str, str]) -> None:
    proc = spawn(
        """
        import os, subprocess, sys, runtui
        runtui.init("capture", snapshot=False)
        print("from print")
        sys.stdout.flush()
        os.write(1, b"from os.write\\n")
        print("to stderr", file=sys.stderr)
        subprocess.run([sys.executable, "-c", "print('from a child process')"])
        print("epoch 1\\r10%\\r100%")
        runtui.finish()
        """,
        subprocess_env,
    )
    out, err = proc.communicate(timeout=30)
    for text in ("from print", "from os.write", "from a child process"):
        assert text in out  # still reaches the terminal
    assert "to stderr" in err
    store = runtui.open_store(store_dir)
    log = store.log_path(only_run(store_dir)).read_text()
    for text in ("from print", "from os.write", "to stderr", "from a child process"):
        assert text in log
    from runtui.services.logs import read_tail

    assert "100%" in read_tail(store.log_path(only_run(store_dir)), 10)


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def test_locked_store_spills_and_merges_on_next_write(
    store_dir: Path, subprocess_env: dict[str, str]
) -> None:
    subprocess_env["RUNTUI_BUSY_TIMEOUT"] = "0.2"
    proc = spawn(
        """
        import sys, time, runtui
        run = runtui.start_run("spill", snapshot=False, capture_output=False)
        print("started", flush=True)
        sys.stdin.readline()          # the test locks the store now
        for i in range(500):
            run.log("loss", float(i), step=i)
        time.sleep(1.5)               # flushes fail: spilled
        print("spilled", flush=True)
        sys.stdin.readline()          # the test releases the lock
        for i in range(500, 600):
            run.log("loss", float(i), step=i)
        time.sleep(6)                 # past the retry interval: merged back
        run.finish()
        print("finished", flush=True)
        """,
        subprocess_env,
    )
    wait_for_line(proc, "started")
    lock = _hold_write_lock(store_dir / "runtui.db")
    proc.stdin.write("go\n")
    proc.stdin.flush()
    wait_for_line(proc, "spilled")
    assert list((store_dir / "spill").glob("*.jsonl"))
    lock.rollback()
    lock.close()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    wait_for_line(proc, "finished", timeout=30)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert err.count("runtui: warning") == 1 and "cannot write to the store" in err
    run = only_run(store_dir)
    assert [s for s, _, _ in run.history("loss")] == list(range(600))
    assert run.status == "completed"
    assert not list((store_dir / "spill").glob("*.jsonl"))


def test_spill_left_by_a_finished_script_is_merged_when_the_store_is_opened(
    store_dir: Path, subprocess_env: dict[str, str]
) -> None:
    subprocess_env["RUNTUI_BUSY_TIMEOUT"] = "0.2"
    proc = spawn(
        """
        import sys, runtui
        run = runtui.start_run("spill", snapshot=False, capture_output=False)
        print("started", flush=True)
        sys.stdin.readline()
        for i in range(300):
            run.log("acc", i / 300, step=i)
        run.finish()
        print("finished", flush=True)
        """,
        subprocess_env,
    )
    wait_for_line(proc, "started")
    lock = _hold_write_lock(store_dir / "runtui.db")
    proc.stdin.write("go\n")
    proc.stdin.flush()
    wait_for_line(proc, "finished")
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Training goes on" in err
    lock.rollback()
    lock.close()
    run = only_run(store_dir)  # opening the store merges the spill
    assert run.status == "completed"
    assert run.summary["acc"].count == 300
    assert not list((store_dir / "spill").glob("*.jsonl"))


def test_attaching_to_a_locked_store_spills_instead_of_crashing(
    store_dir: Path, subprocess_env: dict[str, str]
) -> None:
    owner = runtui.start_run(store=store_dir, snapshot=False, capture_output=False)
    subprocess_env["RUNTUI_BUSY_TIMEOUT"] = "0.2"
    subprocess_env["RUNTUI_RUN_ID"] = owner.uuid
    lock = _hold_write_lock(store_dir / "runtui.db")
    try:
        proc = spawn(
            """
            import runtui
            runtui.init(snapshot=False, capture_output=False)
            runtui.log("loss", 0.25)
            runtui.finish()
            print("trained", flush=True)
            """,
            subprocess_env,
        )
        out, err = proc.communicate(timeout=60)
    finally:
        lock.rollback()
        lock.close()
    assert proc.returncode == 0 and "trained" in out, err
    owner.finish()
    record = runtui.open_store(store_dir).run(owner.uuid)
    assert record.summary["loss"].last == 0.25


def test_a_forked_child_leaves_its_parents_run_alone(
    store_dir: Path, subprocess_env: dict[str, str]
) -> None:
    proc = spawn(
        """
        import os, runtui
        parent = runtui.start_run("fork", name="parent", snapshot=False, capture_output=False)
        parent.log("loss", 1.0)
        pid = os.fork()
        if pid == 0:
            with runtui.start_run("fork", name="child", snapshot=False, capture_output=False) as c:
                c.log("loss", 2.0)
            raise SystemExit(0)   # the child exits normally: atexit runs here
        os.waitpid(pid, 0)
        parent.log("loss", 0.5)
        print("parent still running:", runtui.open_store().run("parent").status, flush=True)
        parent.finish()
        """,
        subprocess_env,
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the forked child too, should it hang
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert "parent still running: running" in out
    store = runtui.open_store(store_dir)
    assert store.run("parent").status == "completed"
    assert store.run("parent").summary["loss"].count == 2
    assert store.run("child").summary["loss"].last == 2.0


def test_overlapping_runs_each_capture_their_own_lifetime(
    store_dir: Path, subprocess_env: dict[str, str]
) -> None:
    proc = spawn(
        """
        import os, runtui
        outer = runtui.start_run("nest", name="outer", snapshot=False)
        print("only outer", flush=True)
        inner = runtui.start_run("nest", name="inner", snapshot=False)
        print("both", flush=True)
        outer.finish()                # the outer run ends first
        os.write(1, b"only inner\\n")
        inner.finish()
        print("neither", flush=True)
        """,
        subprocess_env,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.splitlines() == ["only outer", "both", "only inner", "neither"]
    store = runtui.open_store(store_dir)
    outer_log = store.log_path(store.run("outer")).read_text()
    inner_log = store.log_path(store.run("inner")).read_text()
    assert outer_log.splitlines() == ["only outer", "both"]
    assert inner_log.splitlines() == ["both", "only inner"]
