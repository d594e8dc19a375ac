"""Command palette (`ctrl+p`) entries, as "namespace: verb" hits.

run: <name>          open a run (the table's cursor goes to it too)
experiment: <name>   switch the runs table to an experiment
column: show/hide …  toggle a param or metric column
columns: choose…     open the column chooser
filter: edit… / clear
open compare         the compare screen for the marked runs (or cursor run vs base)

Names are user text. `Matcher.highlight` parses its argument as markup (a
run called ``[/]`` would make hits vanish), so hits are highlighted by
`safe_highlight`, which styles the matched offsets of a plain `Content`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

from runtui.services.textsafe import plain
from runtui.store import tableview
from runtui.store.tableview import RunName
from runtui.tui.screens.main import MainScreen

MAX_RUN_HITS = 50
RECENT_RUNS = 10


def safe_highlight(matcher: Matcher, candidate: str) -> Content:
    """``candidate`` as literal content with the fuzzy-matched characters styled."""
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    if not score:
        return content
    for offset in offsets:
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def _is_subsequence(query: str, candidate: str) -> bool:
    """Cheap pre-check before fuzzy scoring (10,000 run names per keystroke)."""
    it = iter(candidate)
    return all(ch in it for ch in query)


class RunsCommands(Provider):
    """Runs, experiments, columns and the filter of the main screen."""

    async def startup(self) -> None:
        self._entries: list[tuple[str, str, Callable[[], None]]] = []
        self._runs: list[RunName] = []
        screen = self.screen
        if not isinstance(screen, MainScreen):
            return
        self._runs = tableview.run_names(screen.store)
        self._entries = self._screen_entries(screen)

    def _screen_entries(self, screen: MainScreen) -> list[tuple[str, str, Callable[[], None]]]:
        entries: list[tuple[str, str, Callable[[], None]]] = [
            (
                "experiment: all",
                "Show the runs of every experiment",
                partial(screen.switch_experiment, None),
            )
        ]
        for experiment in screen.store.experiments():
            entries.append(
                (
                    f"experiment: {plain(experiment.name)}",
                    f"{experiment.run_count} run{'s' if experiment.run_count != 1 else ''}",
                    partial(screen.switch_experiment, experiment.name),
                )
            )
        shown_params, shown_metrics = screen.shown_params(), screen.shown_metrics()
        for name in screen.store.param_keys():
            verb = "hide" if name in shown_params else "show"
            entries.append(
                (
                    f"column: {verb} param {plain(name)}",
                    "A param column in the runs table",
                    partial(screen.toggle_column, "param", name),
                )
            )
        for name in screen.store.metric_keys():
            verb = "hide" if name in shown_metrics else "show"
            entries.append(
                (
                    f"column: {verb} metric {plain(name)}",
                    "Last value and sparkline in the runs table",
                    partial(screen.toggle_column, "metric", name),
                )
            )
        entries.append(
            ("columns: choose…", "Pick params and metrics to show", screen.action_columns)
        )
        entries.append(
            ("filter: edit…", "Filter runs with the query language", screen.action_filter)
        )
        entries.append(
            (
                "open compare",
                "Compare the marked runs, or the cursor run with the base (b)",
                screen.action_compare,
            )
        )
        if screen.source.view.filter:
            entries.append(("filter: clear", "Show every run again", screen.action_clear_filter))
        return entries

    def _open_run(self, run: RunName) -> None:
        screen = self.screen
        if isinstance(screen, MainScreen):
            screen.jump_to_run(run.row_id)
            screen.open_run(run.uuid)

    @staticmethod
    def _run_text(run: RunName) -> tuple[str, str]:
        return f"run: {plain(run.name)}", f"{run.uuid[:8]} · {plain(run.experiment)} · {run.status}"

    async def discover(self) -> Hits:
        for run in self._runs[:RECENT_RUNS]:
            text, help_text = self._run_text(run)
            yield DiscoveryHit(Content(text), partial(self._open_run, run), text, escape(help_text))
        for text, help_text, callback in self._entries:
            yield DiscoveryHit(Content(text), callback, text, escape(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        needle = query.lower().replace(" ", "")
        for text, help_text, callback in self._entries:
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, safe_highlight(matcher, text), callback, text, escape(help_text))
        found = 0
        for run in self._runs:
            text, help_text = self._run_text(run)
            if not _is_subsequence(needle, text.lower()):
                continue
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    safe_highlight(matcher, text),
                    partial(self._open_run, run),
                    text,
                    escape(help_text),  # the palette reads help as markup: names are data
                )
                found += 1
                if found >= MAX_RUN_HITS:
                    break
