"""The run screen's header: what the run is, how it went, and where it came from.

Name, status, experiment and id; start time, duration (still counting for a
running run), host and git commit (dirty marked); the command line; and for
a run that ended with an error, its first and last lines, with the whole
traceback one key (``e``) away in a scrollable box. Times come from an
injected clock so the header renders the same in tests.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Collapsible, Static

from runtui.services.textsafe import plain
from runtui.services.units import format_duration
from runtui.store.records import RunRecord
from runtui.tui.render import duration_of, relative_time, status_text
from runtui.tui.widgets.env_view import command_line, git_summary

STATUS_STYLES = {
    "running": "bold cyan",
    "completed": "bold green",
    "failed": "bold red",
    "canceled": "bold yellow",
    "crashed": "bold magenta",
}


def error_lines(error: str) -> tuple[str, str]:
    """(first, last) non-empty lines of an error or traceback, escape sequences removed."""
    lines = [plain(line).rstrip() for line in error.splitlines()]
    lines = [line for line in lines if line.strip()]
    if not lines:
        return "", ""
    return lines[0], lines[-1]


def title_text(record: RunRecord) -> Text:
    text = status_text(record.status, STATUS_STYLES)
    text.append("  ")
    text.append(plain(record.name), style="bold")
    text.append(f"  {plain(record.experiment)} / {record.id}", style="dim")
    return text


def meta_text(record: RunRecord, now: float) -> Text:
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started_at))
    duration = format_duration(duration_of(record.started_at, record.ended_at, now))
    text = Text()
    text.append(f"started {started} ({relative_time(record.started_at, now)})")
    verb = "running for" if record.status == "running" else "took"
    text.append(f" · {verb} {duration}")
    if record.exit_code not in (None, 0):
        text.append(f" · exit code {record.exit_code}", style="red")
    if record.host:
        who = f"{plain(record.user)}@" if record.user else ""
        text.append(f" · {who}{plain(record.host)}")
    git = git_summary(record)
    if git:
        text.append(" · git ")
        text.append(plain(git), style="bold yellow" if record.git_dirty else "")
    return text


def command_text(record: RunRecord) -> Text:
    line = command_line(record)
    text = Text("$ ", style="dim", no_wrap=True, overflow="ellipsis")
    text.append(plain(line) if line else "(no command recorded)")
    return text


def error_summary(error: str) -> Text:
    first, last = error_lines(error)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("error: ", style="bold red")
    if first != last:
        text.append(first + " … ", style="dim")
    text.append(last, style="red")
    return text


class RunHeader(Vertical):
    """Title, facts, command, and the error of a failed run."""

    DEFAULT_CSS = """
    RunHeader { height: auto; padding: 0 1; border-bottom: solid $primary-background; }
    RunHeader Static { height: auto; }
    RunHeader #run-error-summary { display: none; }
    RunHeader.has-error #run-error-summary { display: block; }
    RunHeader #run-traceback { display: none; height: auto; padding: 0; border: none; }
    RunHeader.has-error #run-traceback { display: block; }
    RunHeader #run-traceback VerticalScroll { height: auto; max-height: 12; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="run-title", markup=False)
        yield Static(id="run-meta", markup=False)
        yield Static(id="run-command", markup=False)
        yield Static(id="run-error-summary", markup=False)
        with (
            Collapsible(title="full error (e)", collapsed=True, id="run-traceback"),
            VerticalScroll(),
        ):
            yield Static(id="run-error-full", markup=False)

    def show(self, record: RunRecord, now: float) -> None:
        self.query_one("#run-title", Static).update(title_text(record))
        self.query_one("#run-meta", Static).update(meta_text(record, now))
        self.query_one("#run-command", Static).update(command_text(record))
        error = record.error if record.status != "completed" else None
        self.set_class(bool(error), "has-error")
        if error:
            self.query_one("#run-error-summary", Static).update(error_summary(error))
            full = "\n".join(plain(line) for line in error.splitlines())
            self.query_one("#run-error-full", Static).update(Text(full))

    def toggle_error(self) -> None:
        if self.has_class("has-error"):
            box = self.query_one(Collapsible)
            box.collapsed = not box.collapsed
