"""The Environment tab: how and where a run ran.

Command line, working folder, Python, host/user/pid, git state, and the
environment variables as recorded (names that look secret were stored as
``***`` by the logging module; nothing is un-redacted here). All of it is
user data, shown through `Text` after escape sequences are stripped.
"""

from __future__ import annotations

import shlex

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from runtui.services.textsafe import plain
from runtui.store.records import RunRecord

KEY_WIDTH = 10


def git_summary(record: RunRecord) -> str:
    """``a1b2c3d4e5f6 (main, dirty)`` or "" when the run was not in a git checkout."""
    if not record.git_commit:
        return ""
    extras = [b for b in (record.git_branch,) if b]
    if record.git_dirty:
        extras.append("dirty")
    suffix = f" ({', '.join(extras)})" if extras else ""
    return f"{record.git_commit[:12]}{suffix}"


def command_line(record: RunRecord) -> str:
    """The argv as one shell-quoted line."""
    return shlex.join(record.command) if record.command else ""


def env_text(record: RunRecord) -> Text:
    """Everything the tab shows, as one `Text`."""
    out = Text()

    def row(key: str, value: str | None) -> None:
        if value:
            out.append(f"{key:<{KEY_WIDTH}}", style="bold")
            out.append(plain(value) + "\n")

    row("command", command_line(record))
    row("cwd", record.cwd)
    row("python", record.python)
    row("host", record.host)
    row("user", record.user)
    row("pid", str(record.pid) if record.pid else None)
    row("git", git_summary(record))
    row("parent", record.parent_uuid)
    row("notes", record.notes)
    out.append("\n")
    if record.env:
        out.append(f"environment ({len(record.env)} variables)\n", style="bold")
        for name in sorted(record.env):
            out.append(plain(name), style="cyan")
            out.append("=" + plain(record.env[name]) + "\n")
    else:
        out.append("no environment variables were recorded\n", style="dim")
    out.rstrip()
    return out


class EnvView(VerticalScroll):
    """Scrollable text of a run's environment."""

    DEFAULT_CSS = """
    EnvView > Static { padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._body = Static(markup=False)

    def compose(self) -> ComposeResult:
        yield self._body

    def show(self, record: RunRecord) -> None:
        self._body.update(env_text(record))
