"""``runtui diff A B [--code|--params|--metrics] [--stat]``: what changed between two runs.

Each section is a function ``(store, a, b, stat) -> Section``, registered in
`SECTIONS`; the command runs the chosen ones (all without a flag), prints
them, and exits 0 when every chosen section is the same, 1 when one
differs, 2 on error, like ``diff``.

Output is coloured on a terminal only (never with ``NO_COLOR`` or through a
pipe). Piped, the code section is exactly the stored text, binary and large
files included as git binary patches, so ``runtui diff A B --code | git
apply`` recreates B's files; on a terminal, those files are only named, and
escape sequences in user text are stripped first.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from runtui.cli.common import (
    exit_on_broken_pipe,
    handle_errors,
    open_store_for_cli,
    store_option,
)
from runtui.cli.output import human_cell, is_terminal, param_text, store_errors, use_color
from runtui.services import compare
from runtui.services.compare import MISSING
from runtui.services.textsafe import plain

if TYPE_CHECKING:
    from runtui.store.reader import Store
    from runtui.store.records import RunRecord

EXIT_SAME, EXIT_DIFFERENT = 0, 1


@dataclass
class Section:
    """One section's verdict and its text (lines without newlines)."""

    name: str
    same: bool
    lines: list[str] = field(default_factory=list)
    exact: str | None = None  # text to write unchanged when not colouring (a patch)


def _label(run: RunRecord) -> str:
    return f"{run.id} ({run.name})"


# -- sections ----------------------------------------------------------------------


def code_section(store: Store, a: RunRecord, b: RunRecord, stat: bool) -> Section:
    from runtui.services.codediff import diff_runs, full_diff

    diff = diff_runs(store, a, b, line_counts=stat)
    if diff.same:
        return Section("code", True)
    if stat:
        return Section("code", False, diff_stat_lines(diff))
    # a terminal gets a note for binary and large files; anything else a patch that applies
    patch = full_diff(store.conn, diff, for_apply=not sys.stdout.isatty())
    return Section("code", False, patch.splitlines(), exact=patch)


def diff_stat_lines(diff: Any) -> list[str]:
    width = shutil.get_terminal_size((80, 24)).columns if sys.stdout.isatty() else 80
    return diff.stat_lines(width)


def params_section(store: Store, a: RunRecord, b: RunRecord, stat: bool) -> Section:
    """``-key: old`` / ``+key: new`` for each param that differs, in key order."""
    lines: list[str] = []
    changed = added = removed = 0
    for change in compare.param_changes(a.params, b.params):
        in_a, in_b = change.old is not MISSING, change.new is not MISSING
        lines += _param_lines(change)
        changed += in_a and in_b
        added += in_b and not in_a
        removed += in_a and not in_b
    if stat and lines:
        lines = [f" params: {changed} changed, {added} added, {removed} removed"]
    return Section("params", not lines, lines)


def _param_lines(change: compare.ParamChange) -> list[str]:
    """``-key: old`` (unless only in B) and ``+key: new`` (unless only in A).

    Values read as `param_text` writes them, or both as JSON where those two
    texts would be the same (``true`` and ``"true"``, ``1`` and ``"1"``).
    """
    key = human_cell(change.key)
    sides = [(sign, v) for sign, v in (("-", change.old), ("+", change.new)) if v is not MISSING]
    texts = [param_text(value) for _, value in sides]
    if len(texts) == 2 and texts[0] == texts[1]:
        texts = [_json_text(value) for _, value in sides]
    return [f"{sign}{key}: {text}" for (sign, _), text in zip(sides, texts, strict=True)]


def _json_text(value: Any) -> str:
    return plain(json.dumps(value, ensure_ascii=False))


def metrics_section(store: Store, a: RunRecord, b: RunRecord, stat: bool) -> Section:
    """A table of last/min/max of each metric in both runs, with B - A."""
    rows: list[list[str]] = []
    differ = only_a = only_b = same = 0
    for metric in compare.metric_rows([a, b]):
        sa, sb = metric.summaries
        if sa is None or sb is None:
            only_a += sb is None
            only_b += sa is None
        elif metric.differs:
            differ += 1
        else:
            same += 1
        for i, stat_name in enumerate(compare.STATS):
            va, vb = metric.value(0, stat_name), metric.value(1, stat_name)
            rows.append(
                [
                    metric.name if i == 0 else "",
                    stat_name,
                    _num(va),
                    _num(vb),
                    _delta(metric, stat_name),
                ]
            )
    is_same = not (differ or only_a or only_b)
    if stat:
        text = f" metrics: {differ} differ, {only_a} only in {a.id}, {only_b} only in {b.id}"
        return Section("metrics", is_same, [] if is_same else [f"{text}, {same} same"])
    if is_same:
        return Section("metrics", True)
    header = ["metric", "", a.id, b.id, "delta"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = [_row(r, widths) for r in [header, *rows]]
    return Section("metrics", False, lines)


def _row(cells: list[str], widths: list[int]) -> str:
    """Names left-aligned, numbers right-aligned."""
    padded = [
        c.ljust(w) if i < 2 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(padded).rstrip()


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return repr(value) if not math.isfinite(value) else f"{value:.6g}"


def _delta(metric: compare.MetricRow, stat: str) -> str:
    diff = metric.delta(1, stat)
    if diff is None:
        return "-"
    if diff == 0:
        return "0"
    return "nan" if math.isnan(diff) else f"{diff:+.6g}"


SECTIONS: dict[str, Callable[[Any, Any, Any, bool], Section]] = {
    "params": params_section,
    "metrics": metrics_section,
    "code": code_section,
}


# -- printing ------------------------------------------------------------------------


def _style(line: str, section: str) -> dict[str, Any]:
    if line.startswith(("diff --git", "--- ", "+++ ")) and section == "code":
        return {"bold": True}
    if line.startswith("@@"):
        return {"fg": "cyan"}
    if line.startswith("+"):
        return {"fg": "green"}
    if line.startswith("-"):
        return {"fg": "red"}
    if section == "metrics" and line.startswith("metric"):
        return {"bold": True}
    return {}


def _print(section: Section, color: bool) -> None:
    """The section's lines: on a terminal without escape sequences (coloured unless
    ``NO_COLOR``); elsewhere the exact text where there is one (a patch), else the
    lines, still without escape sequences."""
    if color:
        for line in section.lines:
            style = _style(line, section.name)
            click.echo(click.style(plain(line), **style) if style else plain(line), color=True)
    elif section.exact is not None and not is_terminal(sys.stdout):
        _write_exact(section.exact)
    else:
        for line in section.lines:
            click.echo(plain(line))


def _write_exact(text: str) -> None:
    """``text`` byte for byte: ``click.echo`` would drop some escape sequences from it."""
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        sys.stdout.write(text)
        return
    out.write(text.encode("utf-8", "surrogateescape"))
    out.flush()


@click.command("diff")
@click.argument("run_a", metavar="A")
@click.argument("run_b", metavar="B")
@click.option("--code", "chosen", flag_value="code", multiple=True, help="Code snapshot diff.")
@click.option("--params", "chosen", flag_value="params", multiple=True, help="Params diff.")
@click.option("--metrics", "chosen", flag_value="metrics", multiple=True, help="Metrics table.")
@click.option("--stat", is_flag=True, help="A summary instead of the full diff.")
@store_option
@handle_errors
@store_errors
def diff_command(run_a: str, run_b: str, chosen: tuple[str, ...], stat: bool) -> None:
    """Show what changed from run A to run B: params (-key: old / +key: new),
    metrics (last/min/max with B - A) and code (unified diff of the two code
    snapshots). With no section flag, all three. Exit status 0 when the chosen
    sections are the same, 1 when they differ, 2 on error.

    \b
    Examples:
      runtui diff 3f9a1c2e 7b2c9d01
      runtui diff 3f9a1c2e 7b2c9d01 --code --stat
      runtui diff brave-otter-12 calm-heron-3 --code | git apply
    """
    from runtui.errors import RuntuiError

    names = [n for n in SECTIONS if n in chosen] or list(SECTIONS)
    color = use_color(sys.stdout)
    with open_store_for_cli(readonly=True) as store:
        a, b = store.run(run_a), store.run(run_b)
        results = []
        for name in names:
            try:
                results.append(SECTIONS[name](store, a, b, stat))
            except RuntuiError as exc:
                if name in chosen:
                    raise
                click.echo(f"runtui: {name}: {exc}", err=True)  # skipped when not asked for
    status = EXIT_SAME if all(s.same for s in results) else EXIT_DIFFERENT
    try:
        _print_all(results, f"{_label(a)} -> {_label(b)}", titled=len(names) > 1, color=color)
    except BrokenPipeError:  # `| head`: the differences were found all the same
        exit_on_broken_pipe(status)
    sys.exit(status)


def _print_all(results: list[Section], runs: str, *, titled: bool, color: bool) -> None:
    """Each section that has lines, under a title naming the two runs when ``titled``."""
    shown = 0
    for section in results:
        if not section.lines:
            continue
        if titled:
            if shown:
                click.echo()
            title = f"{section.name}: {runs}"
            if color:
                title = click.style(plain(title), bold=True)
            click.echo(title, color=color)
        _print(section, color)
        shown += 1


commands = [diff_command]
