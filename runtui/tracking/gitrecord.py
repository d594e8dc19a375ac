"""Recording a new run's git commit, branch and dirty state off the critical path.

Asking git costs milliseconds that ``start_run`` should not wait for: in a
sweep of short runs that was more than logging their points. One ``git
status --porcelain=v2 --branch`` answers commit, branch and dirty state, so
`GitRecorder` asks that once, from a thread, and queues the answer as an
ordinary ``update`` operation: it reaches the store with the next flush, and
``finish`` stops services before its final flush, so a finished run always
has it.

``subprocess`` is imported with this module, on the thread that starts the
run, never lazily on the recorder's thread: a fork() while that thread held
the import lock would leave a child that deadlocks on its next import.

Outside any git checkout (no ``.git`` in the folder or its parents, no
``GIT_DIR``) git would only fail, so it is not asked at all.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtui.tracking.run import Run

_GIT_TIMEOUT_S = 5.0


def may_be_in_git(cwd: Path) -> bool:
    """False only when git could not find a repository from ``cwd`` (a few stat calls)."""
    if os.environ.get("GIT_DIR"):
        return True
    return any(os.path.lexists(folder / ".git") for folder in (cwd, *cwd.parents))


def git_state(cwd: Path) -> dict[str, Any] | None:
    """``git_commit``, ``git_branch``, ``git_dirty`` of the checkout around ``cwd``, else None.

    No commit yet gives no commit and no branch, a detached HEAD no branch;
    dirty means a tracked file differs from HEAD (or is staged).
    """
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            errors="replace",
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    headers, dirty = {}, False
    for line in done.stdout.splitlines():
        if line.startswith("# "):
            key, _, value = line[2:].partition(" ")
            headers[key] = value
        elif line:
            dirty = True
    commit = headers.get("branch.oid")
    if commit in (None, "(initial)"):  # no commit yet: no branch either
        return {"git_commit": None, "git_branch": None, "git_dirty": dirty}
    branch = headers.get("branch.head")
    return {
        "git_commit": commit,
        "git_branch": None if branch in (None, "(detached)") else branch,
        "git_dirty": dirty,
    }


class GitRecorder:
    def __init__(self, run: Run, cwd: Path) -> None:
        self.run = run
        self.cwd = cwd
        self.thread = threading.Thread(target=self._record, name="runtui-git", daemon=True)

    def start(self) -> bool:
        """Start asking git; False (and nothing started) outside any checkout."""
        if not may_be_in_git(self.cwd):
            return False
        self.thread.start()
        return True

    def _record(self) -> None:
        fields = git_state(self.cwd)
        if fields is not None:  # else not a checkout: the fields stay NULL, as inserted
            self.run._queue({"op": "update", "uuid": self.run.uuid, "fields": fields}, soon=False)

    def stop(self) -> None:
        """Wait for the answer (bounded by the git timeout) so that finish can write it."""
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join()
