"""Recording a new run's git commit, branch and dirty state off the critical path.

Asking git costs one to four subprocesses (several milliseconds each), which
``start_run`` used to wait for: in a sweep of short runs that was more than
logging their points. `GitRecorder` asks from a thread and queues the answer
as an ordinary ``update`` operation, so it reaches the store with the next
flush; ``finish`` stops services before its final flush, so a finished run
always has it.

Outside any git checkout (no ``.git`` in the folder or its parents, no
``GIT_DIR``) git would only fail, so it is not asked at all.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from runtui.tracking.context import git_info

if TYPE_CHECKING:
    from runtui.tracking.run import Run


def may_be_in_git(cwd: Path) -> bool:
    """False only when git could not find a repository from ``cwd`` (a few stat calls)."""
    if os.environ.get("GIT_DIR"):
        return True
    return any(os.path.lexists(folder / ".git") for folder in (cwd, *cwd.parents))


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
        git = git_info(self.cwd)
        if git.commit is None and git.branch is None and git.dirty is None:
            return  # not a git checkout: the fields stay NULL, as they were inserted
        fields = {"git_commit": git.commit, "git_branch": git.branch, "git_dirty": git.dirty}
        self.run._queue({"op": "update", "uuid": self.run.uuid, "fields": fields}, soon=False)

    def stop(self) -> None:
        """Wait for the answer (bounded by git_info's own timeouts) so finish can write it."""
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join()
