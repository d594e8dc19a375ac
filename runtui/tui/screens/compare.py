"""The compare screen: two to eight runs side by side in four tabs.

Opened with ``push_screen(CompareScreen(store_path, uuids))``; the first
run is the reference (metric deltas are "this run minus the first", the
code diff goes from the first run to the second). Each run has a letter
(A, B, …) and a colour, the same in every tab.

Tabs: ``1`` Params & tags, ``2`` Metrics, ``3`` Code (two runs only),
``4`` Environment. The screen opens its own read-only store and builds
the metrics and environment tabs the first time they are shown; the Code
tab is built with the screen and, with two runs, filled by a thread that
reads the code diff as soon as the screen opens, so showing it is only a
tab switch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from runtui.errors import RuntuiError
from runtui.services.compare import environment_rows, params_and_tags
from runtui.services.units import format_duration
from runtui.store.reader import Store, open_store
from runtui.store.records import RunRecord
from runtui.tui import render
from runtui.tui.live import RunsChanged
from runtui.tui.widgets import compare_runs
from runtui.tui.widgets.compare_code import CompareCode, PreparedCode, prepare
from runtui.tui.widgets.compare_metrics import CompareMetrics
from runtui.tui.widgets.compare_table import CompareTable

TABS = (
    ("cmp-params", "Params & tags"),
    ("cmp-metrics", "Metrics"),
    ("cmp-code", "Code"),
    ("cmp-env", "Environment"),
)


class CompareScreen(Screen[None]):
    """Params, metrics, code and environment of several runs."""

    DEFAULT_CSS = """
    CompareScreen #cmp-runs { height: auto; max-height: 9; padding: 0 1; background: $panel; }
    CompareScreen #cmp-tabs { height: 1fr; }
    CompareScreen #cmp-tabs > ContentSwitcher { height: 1fr; }
    CompareScreen TabPane { padding: 0; height: 1fr; }
    CompareScreen .compare-note { padding: 1 2; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back"),
        *(
            Binding(str(i), f"show_tab('{tab}')", title, show=False)
            for i, (tab, title) in enumerate(TABS, start=1)
        ),
    ]

    def __init__(
        self,
        store_path: Path,
        run_uuids: Sequence[str],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        self.run_uuids = list(run_uuids)
        self.clock = clock
        self.store: Store | None = None
        self.runs: list[RunRecord] = []
        self._filled = {"cmp-params", "cmp-code"}

    def compose(self) -> ComposeResult:
        try:
            self.store = open_store(self.store_path, readonly=True)
            self.runs = [self.store.run(uuid) for uuid in self.run_uuids]
        except RuntuiError as exc:
            yield Static(render.safe(f"cannot compare: {exc}"), classes="compare-note")
            yield Footer()
            return
        yield Static(self._runs_text(), id="cmp-runs")
        with TabbedContent(id="cmp-tabs"):
            for i, (tab, title) in enumerate(TABS, start=1):
                with TabPane(f"{i} {title}", id=tab):
                    if tab == "cmp-params":
                        yield CompareTable("key", id="cmp-params-view")
                    elif tab == "cmp-code":  # built now, filled by a thread: no mount on the switch
                        yield from self._code_tab()
                    else:  # filled when first shown
                        yield Static("…", classes="compare-note", markup=False)
        yield Footer()

    def _code_tab(self) -> ComposeResult:
        assert self.store is not None
        if len(self.runs) == 2:
            yield CompareCode(self.store, self.runs, id="cmp-code-view")
        else:
            note = (
                f"The code diff compares two runs; {len(self.runs)} are open. "
                "Mark two runs (space) and press d to see what changed in the code."
            )
            yield Static(note, classes="compare-note", markup=False)

    def _runs_text(self) -> Text:
        """One line per run: letter, name, id, experiment, status, started, duration."""
        now = self.clock()
        name_width = min(40, max(render.safe(r.name).cell_len for r in self.runs) + 2)
        experiment_width = min(30, max(render.safe(r.experiment).cell_len for r in self.runs))
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, run in enumerate(self.runs):
            if i:
                text.append("\n")
            text.append_text(compare_runs.heading(i, run, name_width))
            text.append(f"  {run.id}  ", style="dim")
            text.append_text(render.fit(render.safe(run.experiment, style="dim"), experiment_width))
            text.append("  ")
            text.append_text(render.fit(render.status_text(run.status), 11))
            started = render.relative_time(run.started_at, now)
            duration = format_duration(render.duration_of(run.started_at, run.ended_at, now))
            text.append(f"  started {started}, ran {duration}", style="dim")
            if i == 0 and len(self.runs) > 1:
                text.append("  (reference)", style="dim italic")
        return text

    def on_mount(self) -> None:
        if not self.runs:
            return
        self.query_one("#cmp-params-view", CompareTable).show(self.runs, params_and_tags(self.runs))
        self._focus_pane("cmp-params")
        if any(run.status == "running" for run in self.runs):
            self.set_interval(1.0, self._tick)
        if len(self.runs) == 2:
            self._prepare_code()

    @work(thread=True, exclusive=True, group="compare-code")
    def _prepare_code(self) -> None:
        old, new = self.runs
        self.app.call_from_thread(self._code_prepared, prepare(self.store_path, old, new))

    def _code_prepared(self, prepared: PreparedCode) -> None:
        for code in self.query(CompareCode):
            code.show_prepared(prepared)

    def on_unmount(self) -> None:
        if self.store is not None:
            self.store.close()

    @on(TabbedContent.TabActivated, "#cmp-tabs")
    async def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane
        if pane.id not in self._filled:
            self._filled.add(pane.id or "")
            await pane.remove_children()
            await self._fill_pane(pane)
        self._focus_pane(pane.id)

    async def _fill_pane(self, pane: TabPane) -> None:
        """Build a tab the first time it is shown: opening the screen costs one table."""
        if self.store is None or not self.runs:
            return
        if pane.id == "cmp-metrics":
            metrics = CompareMetrics(self.store_path, id="cmp-metrics-view")
            await pane.mount(metrics)
            metrics.show(self.runs)
        elif pane.id == "cmp-env":
            env = CompareTable("field", id="cmp-env-view")
            await pane.mount(env)
            env.show(self.runs, environment_rows(self.runs))

    def _focus_pane(self, pane: str | None) -> None:
        """Focus the main widget of ``pane`` if it is still the tab shown: a tab
        built slowly must not take focus (and with it the screen, since
        `TabbedContent` shows the tab of whatever has focus) from a tab chosen
        since. At once, not deferred as `Widget.focus` is, for the same reason."""
        targets = {
            "cmp-params": "#cmp-params-view DataTable",
            "cmp-metrics": "#cmp-metrics-table",
            "cmp-code": "#cmp-files",
            "cmp-env": "#cmp-env-view DataTable",
        }
        if pane is None or self.tabs.active != pane:
            return
        for widget in self.query(targets.get(pane, "#none")):
            self.set_focus(widget)

    # -- live updates ----------------------------------------------------

    def _tick(self) -> None:
        """Keep a running run's duration current."""
        if any(run.status == "running" for run in self.runs):
            self.query_one("#cmp-runs", Static).update(self._runs_text())

    def on_runs_changed(self, event: RunsChanged) -> None:
        """Live: a compared run's status or metrics changed. The header and the
        metrics follow; params and environment stay as opened (they seldom change)."""
        newer = {run.uuid: run for run in event.changed if run.uuid in self.run_uuids}
        if not newer or not self.runs:
            return
        self.runs = [newer.get(run.uuid, run) for run in self.runs]
        self.query_one("#cmp-runs", Static).update(self._runs_text())
        for metrics in self.query(CompareMetrics):
            metrics.follow(self.runs)

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#cmp-tabs", TabbedContent)

    def action_show_tab(self, tab: str) -> None:
        if self.runs:
            self.tabs.active = tab

    def action_back(self) -> None:
        if self.runs and self.tabs.active == "cmp-metrics":
            for metrics in self.query(CompareMetrics):
                if metrics.enlarged:
                    metrics.action_enlarge()
                    return
        self.app.pop_screen()
