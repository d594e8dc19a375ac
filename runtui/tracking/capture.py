"""Tee a process's stdout and stderr into the log files of its open runs.

Capture happens at the file-descriptor level: fds 1 and 2 are replaced by
pipes, and a thread per stream copies what arrives both to the original
terminal and to ``logs/<uuid>.log`` of every run capturing at that moment.
So output from C extensions, CUDA libraries and child processes is kept too,
not only Python's ``print``. Bytes are stored as written; readers fold
``\\r`` progress-bar redraws.

The redirection is process-wide and shared (`_Tee`): runs that overlap, in
any order, each get the output of their own lifetime, and the terminal's fds
come back when the last capturing run stops.

When fds 1/2 are not usable (some notebook kernels), Python-level streams are
wrapped instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import sys
import termios
import threading
import time
from pathlib import Path
from typing import IO, Any

_JOIN_TIMEOUT_S = 2.0


class _Tee:
    """The process's redirected stdout/stderr and the log files they feed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sinks: list[IO[bytes]] = []
        self.streams: list[tuple[int, int, threading.Thread]] = []  # (fd, saved fd, pump)
        self.read_ends: list[int] = []
        self.bytes_read = 0  # by the pumps, and of those, handed to the sinks:
        self.bytes_done = 0
        self.wrapped: list[tuple[str, Any]] = []

    def add(self, sink: IO[bytes]) -> None:
        with self.lock:
            first = not self.sinks
            self.sinks.append(sink)
        if first:
            for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
                try:
                    self._redirect_fd(fd, stream)
                except (OSError, ValueError, AttributeError):
                    self._wrap_stream(fd)

    def remove(self, sink: IO[bytes]) -> None:
        with self.lock:
            if sink not in self.sinks:
                return
            last = len(self.sinks) == 1
        if last:
            self._restore()  # drains the pipes into every sink still listed
        else:
            self._drain()  # what was written before now still belongs to this sink
        with self.lock:
            self.sinks.remove(sink)

    def _drain(self, timeout: float = 1.0) -> None:
        """Wait until the pumps have handed on everything already in the pipes."""
        deadline = time.monotonic() + timeout
        settled = 0
        while settled < 2 and time.monotonic() < deadline:
            pending = sum(_unread_bytes(fd) for fd in self.read_ends)
            settled = settled + 1 if pending == 0 and self.bytes_read == self.bytes_done else 0
            time.sleep(0.002)

    def write(self, data: bytes) -> None:
        with self.lock:
            for sink in self.sinks:
                # a full disk must not stop the terminal output
                with contextlib.suppress(OSError, ValueError):
                    sink.write(data)

    def _redirect_fd(self, fd: int, stream: Any) -> None:
        if stream is not None:
            stream.flush()
        os.fstat(fd)  # raises if the fd is closed
        saved = os.dup(fd)
        read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        pump = threading.Thread(
            target=self._pump, args=(read_end, saved), name=f"runtui-capture-{fd}", daemon=True
        )
        pump.start()
        self.streams.append((fd, saved, pump))
        self.read_ends.append(read_end)

    def _pump(self, read_end: int, terminal: int) -> None:
        while True:
            try:
                data = os.read(read_end, 65536)
            except OSError:
                break
            if not data:
                break
            self.bytes_read += len(data)
            _write_all(terminal, data)
            self.write(data)
            self.bytes_done += len(data)
        os.close(read_end)

    def _wrap_stream(self, fd: int) -> None:
        name = "stdout" if fd == 1 else "stderr"
        original = getattr(sys, name)
        if original is None:
            return
        setattr(sys, name, _TeeStream(original, self.write))
        self.wrapped.append((name, original))

    def _restore(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        for fd, saved, _pump in self.streams:
            os.dup2(saved, fd)  # closes our pipe's last write end: the pump sees EOF
        for _fd, saved, pump in self.streams:
            pump.join(_JOIN_TIMEOUT_S)  # a child still holding the pipe must not hang us
            if not pump.is_alive():
                os.close(saved)
        self.streams.clear()
        self.read_ends.clear()
        for name, original in self.wrapped:
            setattr(sys, name, original)
        self.wrapped.clear()


_tee = _Tee()


class OutputCapture:
    """Captures the process's output into one run's log file while started."""

    def __init__(self, log_file: Path) -> None:
        self.log_file = log_file
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_file, "ab", buffering=0)  # noqa: SIM115 - closed in stop()
        _tee.add(self._log)

    def stop(self) -> None:
        if self._log is None:
            return
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        _tee.remove(self._log)
        self._log.close()
        self._log = None


def _unread_bytes(fd: int) -> int:
    """Bytes waiting in pipe ``fd`` (0 where the platform cannot tell)."""
    try:
        return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:
        return 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except InterruptedError:
            continue
        except OSError:
            return  # terminal gone (closed pipe): keep logging to the file
        view = view[written:]


class _TeeStream:
    """A text stream that also hands what it writes to the logs."""

    def __init__(self, inner: Any, sink: Any) -> None:
        self._inner = inner
        self._sink = sink

    def write(self, text: str) -> int:
        self._sink(text.encode("utf-8", "replace"))
        return self._inner.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
