"""How a run ends when the script does not say: exceptions, Ctrl-C, SIGTERM, exit.

Installed once per process, the first time a run starts:

* ``sys.excepthook`` (chained to the one already there): an uncaught
  exception finishes open runs as ``failed`` with the traceback, a
  KeyboardInterrupt as ``canceled``. It runs before ``atexit``, so a script
  that died of an exception is never marked ``completed``.
* ``atexit``: runs still open at a normal exit are ``completed``.
* SIGTERM, only if its handler is still the default (a user's own handler is
  never replaced): it raises ``SystemExit(143)`` in the main thread so
  ``finally`` blocks and context managers run, and open runs end ``canceled``.

A process killed outright (``kill -9``, OOM) runs none of this; readers turn
its runs into ``crashed`` (see `runtui.liveness`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtui.tracking.run import Run

_open_runs: list[Run] = []
_installed = False
_terminated = False
_previous_excepthook = sys.excepthook
SIGTERM_EXIT_CODE = 128 + signal.SIGTERM


def _forget_all() -> None:
    _open_runs.clear()  # a forked child must not finish its parent's runs at exit


os.register_at_fork(after_in_child=_forget_all)


def register(run: Run) -> None:
    _install()
    _open_runs.append(run)


def forget(run: Run) -> None:
    if run in _open_runs:
        _open_runs.remove(run)


def open_runs() -> list[Run]:
    return list(_open_runs)


def outcome(exc_type: Any, exc: Any, tb: Any) -> tuple[str, str | None, int | None]:
    """(status, error, exit code) for a run ended by this exception (or none)."""
    from runtui.tracking.run import format_error

    if exc_type is None:
        return "completed", None, None
    if issubclass(exc_type, KeyboardInterrupt):
        return "canceled", "KeyboardInterrupt", None
    if issubclass(exc_type, SystemExit):
        code = exc.code if exc is not None else None
        if _terminated:
            return "canceled", "terminated by SIGTERM", SIGTERM_EXIT_CODE
        if code in (0, None):
            return "completed", None, 0
        numeric = code if isinstance(code, int) else 1
        return "failed", f"SystemExit: {code}", numeric
    return "failed", format_error(exc_type, exc, tb), None


def _finish_all(status: str, error: str | None = None, code: int | None = None) -> None:
    for run in reversed(open_runs()):
        with contextlib.suppress(Exception):
            run.finish(status, error=error, exit_code=code)


def _excepthook(exc_type: Any, exc: Any, tb: Any) -> None:
    status, error, code = outcome(exc_type, exc, tb)
    _finish_all(status, error, code)
    _previous_excepthook(exc_type, exc, tb)


def _at_exit() -> None:
    if _terminated:
        _finish_all("canceled", "terminated by SIGTERM", SIGTERM_EXIT_CODE)
    else:
        _finish_all("completed")


def _on_sigterm(signum: int, frame: Any) -> None:
    global _terminated
    _terminated = True
    raise SystemExit(SIGTERM_EXIT_CODE)


def _install() -> None:
    global _installed, _previous_excepthook
    if _installed:
        return
    _installed = True
    _previous_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    atexit.register(_at_exit)
    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError):
            pass
