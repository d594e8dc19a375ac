"""Tee a process's stdout and stderr into the run's log file.

Capture happens at the file-descriptor level: fds 1 and 2 are replaced by
pipes, and a thread per stream copies what arrives both to the original
terminal and to ``logs/<uuid>.log``. So output from C extensions, CUDA
libraries and child processes is kept too, not only Python's ``print``.
Bytes are stored as written; readers fold ``\\r`` progress-bar redraws.

When fds 1/2 are not usable (some notebook kernels), Python-level streams are
wrapped instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import IO, Any

_JOIN_TIMEOUT_S = 2.0


class OutputCapture:
    def __init__(self, log_file: Path) -> None:
        self.log_file = log_file
        self._log: IO[bytes] | None = None
        self._write_lock = threading.Lock()
        self._streams: list[tuple[int, int, threading.Thread]] = []  # (fd, saved fd, pump)
        self._wrapped: list[tuple[str, Any]] = []

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_file, "ab", buffering=0)  # noqa: SIM115 - closed in stop()
        for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
            try:
                self._redirect_fd(fd, stream)
            except (OSError, ValueError, AttributeError):
                self._wrap_stream(fd)

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
        self._streams.append((fd, saved, pump))

    def _pump(self, read_end: int, terminal: int) -> None:
        while True:
            try:
                data = os.read(read_end, 65536)
            except OSError:
                break
            if not data:
                break
            _write_all(terminal, data)
            self._to_log(data)
        os.close(read_end)

    def _to_log(self, data: bytes) -> None:
        with self._write_lock:
            if self._log is not None:
                # a full disk must not stop the terminal output
                with contextlib.suppress(OSError, ValueError):
                    self._log.write(data)

    def _wrap_stream(self, fd: int) -> None:
        name = "stdout" if fd == 1 else "stderr"
        original = getattr(sys, name)
        if original is None:
            return
        setattr(sys, name, _TeeStream(original, self._to_log))
        self._wrapped.append((name, original))

    def stop(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        for fd, saved, _pump in self._streams:
            os.dup2(saved, fd)  # closes our pipe's last write end: the pump sees EOF
        for _fd, saved, pump in self._streams:
            pump.join(_JOIN_TIMEOUT_S)  # a child still holding the pipe must not hang us
            if not pump.is_alive():
                os.close(saved)
        self._streams.clear()
        for name, original in self._wrapped:
            setattr(sys, name, original)
        self._wrapped.clear()
        with self._write_lock:
            if self._log is not None:
                self._log.close()
                self._log = None


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
    """A text stream that also hands what it writes to the log."""

    def __init__(self, inner: Any, sink: Any) -> None:
        self._inner = inner
        self._sink = sink

    def write(self, text: str) -> int:
        self._sink(text.encode("utf-8", "replace"))
        return self._inner.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
