"""``runtui show RUN``: everything recorded about one run, as text or JSON."""

from __future__ import annotations

import json
import os
import shlex
import time
from typing import Any

import click

from runtui.cli.common import handle_errors, open_store_for_cli, store_option
from runtui.cli.output import (
    format_option,
    human_cell,
    json_safe,
    param_text,
    store_errors,
    use_color,
)
from runtui.services.textsafe import plain
from runtui.services.units import format_duration, human_size


@click.command("show")
@click.argument("run")
@format_option("text", "json", default="text")
@store_option
@handle_errors
@store_errors
def show_command(run: str, fmt: str) -> None:
    """Show everything recorded about RUN (a uuid, a short id, or a unique name):
    status, times, command, host, git, params, tags, metric summaries, error,
    artifacts, the log file and the environment.

    \b
    Examples:
      runtui show 3f9a1c2e
      runtui show brave-otter-12 --format json | jq .params
    """
    from runtui.services.export import run_document

    with open_store_for_cli() as store:
        doc = run_document(store, store.run(run))
    if fmt == "json":
        click.echo(json.dumps(json_safe(doc), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        import sys

        click.echo("\n".join(text_lines(doc, bold=use_color(sys.stdout))))


def _local(iso: str | None) -> str:
    if iso is None:
        return ""
    from datetime import datetime

    moment = datetime.fromisoformat(iso)
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(moment.timestamp()))} ({iso})"


def _log(path: str) -> str:
    try:
        return f"{path} ({human_size(os.path.getsize(path))})"
    except OSError:
        return f"{path} (no output captured)"


def _duration(seconds: float | None) -> str:
    return "" if seconds is None else f"{format_duration(seconds)} ({seconds:.1f} s)"


def _code(snapshot: dict[str, Any] | None, run_id: str) -> str:
    if snapshot is None:
        return ""
    files = f"{snapshot['files']:,} file{'s' if snapshot['files'] != 1 else ''}"
    size = human_size(snapshot["bytes"])
    return f"{files}, {size} (runtui checkout {run_id} DIR restores them)"


def _fields(pairs: list[tuple[str, Any]], *, keep_empty: bool = False) -> list[str]:
    shown = [
        (human_cell(k), human_cell(v))
        for k, v in pairs
        if keep_empty or v not in (None, "", [], {})
    ]
    width = max((len(k) for k, _ in shown), default=0)
    return [f"  {k.ljust(width)}  {v}" for k, v in shown]


def text_lines(doc: dict[str, Any], *, bold: bool = False) -> list[str]:
    """The text form of a `run_document`: sections of aligned fields, user text made safe."""

    def heading(title: str) -> str:
        return click.style(title, bold=True) if bold else title

    status = doc["status"] + (f" (exit code {doc['exit_code']})" if doc["exit_code"] else "")
    git = doc["git"]
    git_text = " ".join(
        part
        for part in (
            (git["commit"] or "")[:12],
            f"on {git['branch']}" if git["branch"] else "",
            "(dirty)" if git["dirty"] else "",
        )
        if part
    )
    lines = [heading(f"run {doc['id']}  {human_cell(doc['name'])}")]
    lines += _fields([
        ("uuid", doc["uuid"]), ("experiment", doc["experiment"]), ("status", status),
        ("started", _local(doc["started_at"])), ("ended", _local(doc["ended_at"])),
        ("duration", _duration(doc["duration_s"])),
        ("command", shlex.join(doc["command"])), ("cwd", doc["cwd"]), ("host", doc["host"]),
        ("user", doc["user"]), ("pid", doc["pid"]), ("python", doc["python"]),
        ("git", git_text), ("parent", doc["parent_uuid"]), ("notes", doc["notes"]),
        ("code", _code(doc["snapshot"], doc["id"])), ("log", _log(doc["log"])),
    ])  # fmt: skip
    if doc["params"]:  # every key; text that would read as another value is quoted
        shown = [(key, param_text(value)) for key, value in doc["params"].items()]
        lines += ["", heading("params"), *_fields(shown, keep_empty=True)]
    if doc["tags"]:
        lines += ["", heading("tags"), *_fields(list(doc["tags"].items()), keep_empty=True)]
    if doc["metrics"]:
        lines += ["", heading("metrics"), *_metric_lines(doc["metrics"])]
    if doc["artifacts"]:
        lines += ["", heading("artifacts")]
        lines += _fields(
            [(a["name"], f"{human_size(a['size'])}  {a['path']}") for a in doc["artifacts"]]
        )
    if doc["error"]:
        lines += ["", heading("error"), *("  " + line for line in plain(doc["error"]).splitlines())]
    if doc["env"]:
        lines += ["", heading("environment"), *_fields(sorted(doc["env"].items()))]
    if git["diff"]:
        lines += ["", heading("uncommitted changes (git diff)"), *plain(git["diff"]).splitlines()]
    return lines


def _metric_lines(metrics: dict[str, dict[str, Any]]) -> list[str]:
    header = ["", "last", "min", "max", "points", "steps"]
    rows = [
        [
            human_cell(name),
            *(human_cell(m[k], digits=6) for k in ("last", "min", "max")),
            str(m["count"]),
            f"{m['first_step']}..{m['last_step']}",
        ]
        for name, m in metrics.items()
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                         enumerate(zip(row, widths, strict=True))).rstrip()
        for row in [header, *rows]
    ]  # fmt: skip


commands = [show_command]
