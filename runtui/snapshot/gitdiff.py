"""What a code snapshot asks git: the repository's root and its uncommitted diff.

A run's commit, branch and dirty state are recorded apart, from a thread
(`runtui.tracking.gitrecord`); the snapshot needs only the root (the
default folder to snapshot) and ``git diff HEAD``. Outside any checkout git
is not asked at all (`gitrecord.may_be_in_git`, a few stat calls), and the
diff is read with a cap: a diff of a large tracked data file is cut at
`MAX_DIFF_BYTES` with a note saying so at its end.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from runtui.tracking.gitrecord import may_be_in_git

MAX_DIFF_BYTES = 5 << 20
GIT_TIMEOUT_S = 5.0


def git_root(cwd: Path) -> str | None:
    """The top folder of the checkout around ``cwd``, or None outside git."""
    if not may_be_in_git(cwd):
        return None
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            errors="replace",
        )
    except (OSError, subprocess.SubprocessError):
        return None
    root = done.stdout.strip()
    return root if done.returncode == 0 and root else None


def git_diff(cwd: Path) -> str | None:
    """``git diff HEAD`` around ``cwd`` (None outside git, before the first commit, or
    when clean), cut at `MAX_DIFF_BYTES` with a note at the end."""
    if not may_be_in_git(cwd):
        return None
    cap = MAX_DIFF_BYTES
    try:
        process = subprocess.Popen(
            ["git", "diff", "HEAD", "--no-color", "--no-ext-diff"],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    assert process.stdout is not None
    timer = threading.Timer(GIT_TIMEOUT_S, process.kill)
    timer.start()
    try:
        data = process.stdout.read(cap + 1)
        cut = len(data) > cap
        if cut:
            process.kill()  # the rest is not wanted: do not wait for git to produce it
        process.stdout.close()
        code = process.wait()
    finally:
        timer.cancel()
    if not cut and code != 0:  # not a checkout, no commit yet, or too slow
        return None
    if not cut:
        return data.decode("utf-8", "replace") or None
    kept = data[: data.rfind(b"\n", 0, cap) + 1] or data[:cap]
    note = f"[runtui: the diff was cut here: it is larger than {cap / (1 << 20):g} MB]\n"
    return kept.decode("utf-8", "replace") + note
