"""``runtui run``: start a command as a run, and stand between it and the terminal.

The runner process owns the run: it creates it (``start_run`` with no output
capture of its own), snapshots the code *before* the command starts (so a
tree over the size cap fails in a second, not after hours of training), then
starts the command with ``RUNTUI_RUN_ID``, ``RUNTUI_STORE`` and
``PYTHONUNBUFFERED=1`` set. A script inside that calls ``runtui.init()``
attaches to the same run and logs into it; the runner alone sets its status.

The child's stdout and stderr come through two pipes; a thread per stream
copies what arrives to the same stream of the runner (so it shows live) and
to the run's log file, and, with ``--scalars``, turns printed numbers into
metrics. The log gets whole lines from each stream: an unbuffered ``print(a,
b)`` arrives in pieces, and a line of the other stream must not land between
them. A line's start waits for its end at most `HOLD_S` (a prompt, or a
progress bar's latest state after its ``\r``, is then logged as it is).

After the command exits, the copying goes on until both pipes reach their
end, however slowly the runner's own output is read; it gives up only on a
pipe that stays idle for `IDLE_GIVE_UP_S` (a background grandchild that
still holds it open).

On Linux the command is started with a parent-death signal (SIGTERM): a
runner killed with SIGKILL does not leave its command running unwatched.

Signals: SIGTERM and SIGHUP are forwarded to the child. SIGINT is forwarded
unless the runner is in the terminal's foreground process group: then a
Ctrl-C has already reached the child directly, and a second copy would
interrupt its cleanup. Either way the run ends ``canceled``.

The exit status is the child's; a child killed by signal N gives 128 + N as
a shell does; a command that cannot be started gives 127 (not found) or 126,
and a ``failed`` run that says why.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from runtui.errors import RuntuiError

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
IDLE_GIVE_UP_S = 2.0  # after the command exits: a pipe silent this long is abandoned
HOLD_S = 0.2  # how long the log waits for the end of a line that has begun
_INT = re.compile(r"[-+]?\d+")
_LEADING_ZERO = re.compile(r"[-+]?0\d")
_SQLITE_INT = range(-(2**63), 2**63)
_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


class CommandNotStartedError(RuntuiError):
    """The command could not be started; ``exit_code`` is 127 (not found) or 126."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def param_value(text: str) -> Any:
    """``"3"`` → 3, ``"1e-4"`` → 0.0001, anything else stays a string.

    Numbers that would not come back as typed stay strings too: ``"010"``
    (an id or a zero-padded label), integers SQLite cannot hold (64-bit),
    and floats that overflow to infinity.
    """
    if _LEADING_ZERO.match(text):
        return text
    if _INT.fullmatch(text):
        number = int(text)
        return number if number in _SQLITE_INT else text
    if _FLOAT.fullmatch(text):
        value = float(text)
        return value if math.isfinite(value) else text
    return text


def parse_assignments(items: Sequence[str], what: str, numbers: bool) -> dict[str, Any]:
    """``["lr=0.1", "opt=adam"]`` → dict; a missing ``=`` or key is a one-line error."""
    out: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise RuntuiError(f"--{what} {item!r}: expected KEY=VALUE")
        out[key.strip()] = param_value(value) if numbers else value
    return out


@dataclass
class RunSpec:
    command: list[str]
    experiment: str = "default"
    name: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    snapshot: bool = True
    snapshot_root: Path | None = None
    max_mb: float | None = None
    max_files: int | None = None
    scalars: bool = False
    scalars_regex: str | None = None
    store: Path | None = None


class _Signals:
    """Remembers the first signal and forwards signals to the child once it exists."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.child: subprocess.Popen[bytes] | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        for sig in FORWARDED:
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.received is None:
            self.received = signum
        self.forward(signum)

    def forward(self, signum: int) -> None:
        child = self.child
        if child is None or child.returncode is not None:
            return
        if signum == signal.SIGINT and _terminal_sent_it():
            return
        with contextlib.suppress(OSError):  # already gone
            os.kill(child.pid, signum)


def _terminal_sent_it() -> bool:
    """True when we are in the terminal's foreground group: a Ctrl-C reached the child too."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    return False


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except InterruptedError:
            continue
        except OSError:
            return  # our terminal went away: keep logging to the file


class _Tee:
    """Copies the child's output to the terminal and the log; feeds --scalars."""

    def __init__(self, log: IO[bytes] | None, on_line: Any = None) -> None:
        self.log = log
        self.on_line = on_line
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        # thread -> monotonic time it started waiting for data (None: busy copying)
        self.waiting_since: dict[threading.Thread, float | None] = {}

    def start(self, pipe: IO[bytes], terminal_fd: int) -> None:
        thread = threading.Thread(
            target=self._pump, args=(pipe, terminal_fd), name="runtui-run-tee", daemon=True
        )
        thread.start()
        self.threads.append(thread)

    def _pump(self, pipe: IO[bytes], terminal_fd: int) -> None:
        fd = pipe.fileno()
        pending = b""  # the line being split for --scalars
        held = b""  # the start of a line, not in the log yet (see the module's docstring)
        arrived = select.poll()
        arrived.register(fd, select.POLLIN)
        me = threading.current_thread()
        while True:
            self.waiting_since[me] = time.monotonic()
            if held and not arrived.poll(HOLD_S * 1000):
                self._log(held)  # its end did not come: logged as it is
                held = b""
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            self.waiting_since[me] = None
            if not data:
                break
            _write_all(terminal_fd, data)
            held += data
            whole = max(held.rfind(b"\n"), held.rfind(b"\r")) + 1
            if whole:
                self._log(held[:whole])
                held = held[whole:]
            if self.on_line is not None:
                *lines, pending = re.split(rb"[\r\n]", pending + data)
                for line in lines:
                    self._line(line)
        self._log(held)
        if self.on_line is not None and pending:
            self._line(pending)
        pipe.close()

    def _log(self, data: bytes) -> None:
        with self.lock:
            if self.log is not None and data:
                # a full disk must not stop the command's output
                with contextlib.suppress(OSError, ValueError):
                    self.log.write(data)

    def _line(self, line: bytes) -> None:
        if line:
            with contextlib.suppress(Exception):  # a parsing problem must never stop the tee
                self.on_line(line.decode("utf-8", errors="replace"))

    def join(self, idle_give_up_s: float = IDLE_GIVE_UP_S) -> None:
        """Wait until every pipe is copied to its end, called once the command has exited.

        A slow reader of our output only slows this down; a pipe that stays
        idle for ``idle_give_up_s`` (a grandchild holding it open) is
        abandoned, so the runner never hangs on it.
        """
        exited = time.monotonic()
        for thread in self.threads:
            while thread.is_alive():
                thread.join(0.05)
                since = self.waiting_since.get(thread)
                if since is not None and time.monotonic() - max(since, exited) > idle_give_up_s:
                    break


class _ScalarLogger:
    """``--scalars``: each printed line's numbers become points of the run."""

    def __init__(self, run: Any, parser: Any) -> None:
        self.run = run
        self.parser = parser

    def __call__(self, line: str) -> None:
        metrics = self.parser.parse(line)
        if metrics:
            self.run.log(metrics)


def _exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _note(message: str) -> None:
    sys.stderr.write(f"runtui: {message}\n")
    sys.stderr.flush()


def run_command(spec: RunSpec) -> int:
    """Run ``spec.command`` as a run; return the exit status for the runner to exit with."""
    import runtui
    from runtui.services.scalars import ScalarParser
    from runtui.snapshot.capture import snapshot_for_run
    from runtui.snapshot.limits import Limits
    from runtui.store import location

    if not spec.command:
        raise RuntuiError("no command given: runtui run [OPTIONS] -- COMMAND [ARGS]...")
    parser = ScalarParser(spec.scalars_regex) if spec.scalars or spec.scalars_regex else None
    limits = Limits.resolve(
        spec.max_mb, spec.max_files, options=("--snapshot-max-mb", "--snapshot-max-files")
    )
    signals = _Signals()
    signals.install()  # before start_run, so its own SIGTERM hook stays out of the way
    os.environ.pop("RUNTUI_RUN_ID", None)  # a run started inside another run is a new run
    try:
        run = runtui.start_run(
            spec.experiment,
            spec.name,
            params=dict(spec.params),
            tags=dict(spec.tags),
            snapshot=False,
            capture_output=False,
            store=spec.store,
        )
        if spec.snapshot:
            snapshot_for_run(run, spec.snapshot_root, limits)  # over the cap: raises, run failed
        _note(f"run {run.id} ({run.name}) in experiment {run.experiment}")
        return _supervise(
            run, spec.command, parser, signals, location.log_path(run.store_path, run.uuid)
        )
    finally:
        signals.restore()


def _parent_death_signal() -> Any:
    """A ``preexec_fn`` that has the kernel send SIGTERM to the command if the runner dies.

    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere None. libc is loaded
    here, before the fork, so the child only makes the call.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    runner = os.getpid()
    pr_set_pdeathsig = 1

    def set_it() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != runner:  # the runner died before the call: nothing will signal us
            os.kill(os.getpid(), signal.SIGTERM)

    return set_it


def _open_log(path: Path) -> IO[bytes] | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "ab", buffering=0)  # closed by _supervise
    except OSError as exc:
        _note(f"warning: output not captured ({exc})")
        return None


def _supervise(run: Any, command: list[str], parser: Any, signals: _Signals, log_file: Path) -> int:
    if signals.received is not None:
        name = _signal_name(signals.received)
        run.finish("canceled", error=f"canceled by {name} before the command started")
        return 128 + signals.received
    env = dict(os.environ)
    env.update(RUNTUI_RUN_ID=run.uuid, RUNTUI_STORE=str(run.store_path), PYTHONUNBUFFERED="1")
    log = _open_log(log_file)
    tee = _Tee(log, None if parser is None else _ScalarLogger(run, parser))
    try:
        try:
            child = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                preexec_fn=_parent_death_signal(),  # one libc call in the child, no locks
            )
        except OSError as exc:
            code = 127 if isinstance(exc, FileNotFoundError) else 126
            why = "command not found" if code == 127 else (exc.strerror or str(exc))
            message = f"cannot start {command[0]!r}: {why}"
            run.finish("failed", error=message, exit_code=code)
            raise CommandNotStartedError(message, code) from None
        signals.child = child
        if signals.received is not None:  # a signal arrived while the child was being started
            signals.forward(signals.received)
        assert child.stdout is not None and child.stderr is not None
        tee.start(child.stdout, 1)
        tee.start(child.stderr, 2)
        returncode = child.wait()
        tee.join()
    finally:
        if log is not None:
            with tee.lock:
                log.close()
                tee.log = None
    status_code = _exit_status(returncode)
    if signals.received is not None:
        status, error = "canceled", f"canceled by {_signal_name(signals.received)}"
    elif returncode == 0:
        status, error = "completed", None
    elif returncode < 0:
        status, error = "failed", f"killed by {_signal_name(-returncode)}"
    else:
        status, error = "failed", f"exit code {returncode}"
    run.finish(status, error=error, exit_code=status_code)
    _note(f"run {run.id} {status}" + (f" ({error})" if error else ""))
    return status_code
