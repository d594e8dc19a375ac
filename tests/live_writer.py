"""A training process driven line by line from stdin, for live-update tests."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from runtui.store import connection, writer

# A training script driven line by line from stdin, so each test decides
# exactly what is written and when.
WRITER = r"""
import sys, runtui
run = runtui.start_run(experiment="live", name=sys.argv[1], snapshot=False)
open(sys.argv[2], "w").write(run.uuid)
for command in sys.stdin:
    verb, _, arg = command.rstrip("\n").partition(" ")
    if verb == "log":
        name, value = arg.split()
        run.log(name, float(value))
    elif verb == "print":
        print(arg, flush=True)
    elif verb == "write":
        sys.stdout.write(arg)
        sys.stdout.flush()
    elif verb == "redraw":  # a progress bar's redraw: a carriage return, then the text
        sys.stdout.write("\r" + arg)
        sys.stdout.flush()
    elif verb == "finish":
        run.finish()
        break
"""


class Writer:
    def __init__(self, env: dict[str, str], tmp: Path, name: str) -> None:
        id_file = tmp / f"{name}.id"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, name, str(id_file)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 10
        while not (id_file.exists() and id_file.read_text()):
            assert self.proc.poll() is None, self.proc.stderr.read()
            assert time.monotonic() < deadline, "writer did not start"
            time.sleep(0.02)
        self.uuid = id_file.read_text()

    def send(self, *commands: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(c + "\n" for c in commands))
        self.proc.stdin.flush()

    def finish(self) -> None:
        self.send("finish")
        assert self.proc.wait(10) == 0

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


@contextlib.contextmanager
def writers(env: dict[str, str], tmp: Path) -> Iterator[Callable[..., Writer]]:
    """``start(name)`` starts a writer; any still running at the end is killed."""
    started: list[Writer] = []

    def start(name: str = "w") -> Writer:
        writer = Writer(env, tmp, name)
        started.append(writer)
        return writer

    try:
        yield start
    finally:
        for writer in started:
            if writer.proc.poll() is None:
                writer.kill()


def finished_run(store: Path, name: str) -> str:
    """Write a completed run straight into the store (no process); return its uuid."""
    now = time.time()
    fields = {"uuid": str(uuid.uuid4()), "name": name, "status": "completed", "started_at": now}
    conn = connection.connect(store, create=True)
    try:
        connection.write_transaction(conn, lambda c: writer.insert_run(c, "live", fields))
        connection.write_transaction(
            conn, lambda c: writer.finish_run(c, writer.run_row_id(c, fields["uuid"]),
                                              "completed", ended_at=now + 1)
        )  # fmt: skip
    finally:
        conn.close()
    return fields["uuid"]
