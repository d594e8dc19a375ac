"""Is the process that owns a run still alive?

A pid alone is not proof: after a crash the OS may give the same pid to an
unrelated process. So runs record the process start time as the OS reports
it (`start_marker`) and a run counts as alive only if a process with that pid
*and* that start time exists. Runs from other hosts are judged by their
heartbeat instead (`STALE_AFTER_S`).
"""

from __future__ import annotations

import os

HEARTBEAT_INTERVAL_S = 5.0
STALE_AFTER_S = 60.0
_HAS_PROC = os.path.isdir("/proc/self")


def hostname() -> str:
    """The host name, as ``socket.gethostname()`` gives it (without importing socket)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def start_marker(pid: int) -> str | None:
    """The start time of process ``pid`` as an opaque string, or None if it does not exist."""
    if not _HAS_PROC:
        return _fallback_marker(pid)
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return None
    except OSError:
        return _fallback_marker(pid)
    # Field 22 (starttime, in clock ticks since boot) comes after the command
    # name, which is in parentheses and may itself contain spaces or ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    return fields[19].decode()


def _fallback_marker(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


def owner_alive(pid: int | None, marker: str | None) -> bool:
    """True if the process recorded as (pid, marker) on this host still runs."""
    if not pid:
        return False
    current = start_marker(pid)
    if current is None:
        return False
    return not marker or not current or current == marker
