"""The run screen: one run's header and six tabs (metrics, logs, params, code, env, artifacts).

Opened with ``push_screen(RunScreen(store_path, run_uuid))``. It opens its
own read-only `Store` (it never writes), reads the run record once, and
fills each tab the first time it is shown, so opening a run costs the
header and the Metrics tab only; the heavy reads (chart points, log tail,
snapshot files) run in thread workers with their own connections.

Keys: ``1``-``6`` pick a tab, ``[``/``]`` step through them, ``e`` opens a
failed run's full error, ``escape`` closes what is open inside the tab (an
enlarged chart, the log search) and otherwise goes back.

`reload_run` re-reads the record (status, duration, error, params,
summaries) and `append_lines` adds captured output. With the app's live
updates (`runtui.tui.live`), the screen follows the run by itself: the
header on `RunsChanged`, the Metrics tab on `PointsAdded`, the Logs tab on
`LogLinesAdded`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from runtui.errors import RuntuiError
from runtui.store.reader import Store, open_store
from runtui.store.records import RunRecord
from runtui.tui.live import LiveBadge, LiveUpdates, LogLinesAdded, PointsAdded, RunsChanged
from runtui.tui.widgets.artifacts_view import ArtifactsView
from runtui.tui.widgets.code_view import CodeView
from runtui.tui.widgets.env_view import EnvView
from runtui.tui.widgets.log_view import TAIL_LINES, LogView
from runtui.tui.widgets.metrics_view import MetricsView
from runtui.tui.widgets.params_view import ParamsView
from runtui.tui.widgets.run_header import RunHeader

TABS = (
    ("metrics", "Metrics"),
    ("logs", "Logs"),
    ("params", "Params & tags"),
    ("code", "Code"),
    ("env", "Environment"),
    ("artifacts", "Artifacts"),
)


class RunScreen(Screen[None]):
    """Everything about one run."""

    DEFAULT_CSS = """
    RunScreen #run-tabs { height: 1fr; }
    RunScreen #run-tabs > ContentSwitcher { height: 1fr; }
    RunScreen TabPane { padding: 0; height: 1fr; }
    RunScreen #run-missing { padding: 1 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back"),
        Binding("left_square_bracket", "step_tab(-1)", "prev tab", key_display="["),
        Binding("right_square_bracket", "step_tab(1)", "next tab", key_display="]"),
        *(
            Binding(str(i), f"show_tab('{tab}')", title, show=False)
            for i, (tab, title) in enumerate(TABS, start=1)
        ),
        Binding("e", "toggle_error", "error", show=False),
        Binding("d", "compare_previous", "compare with previous"),
    ]

    def __init__(
        self, store_path: Path, run_uuid: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        self.run_uuid = run_uuid
        self.clock = clock
        self.store: Store | None = None
        self.record: RunRecord | None = None
        self._focus_wanted: str | None = None

    # -- building --------------------------------------------------------

    def compose(self) -> ComposeResult:
        try:
            self.store = open_store(self.store_path, readonly=True)
            self.record = self.store.run(self.run_uuid)
        except RuntuiError as exc:
            yield Static(Text(f"cannot open run {self.run_uuid}: {exc}"), id="run-missing")
            yield Footer()
            return
        yield RunHeader(id="run-header")
        with TabbedContent(id="run-tabs"):
            for i, (tab, title) in enumerate(TABS, start=1):
                with TabPane(f"{i} {title}", id=tab):
                    if tab == "metrics":
                        yield MetricsView(self.store_path, self.run_uuid, id="metrics-view")
                    elif tab == "logs":  # built now, filled when shown: no mount on the switch
                        yield LogView(self.store.log_path(self.record), id="log-view")
        yield Footer()
        yield LiveBadge()

    def on_mount(self) -> None:
        record = self.record
        if record is None:
            return
        self._show_record(record)
        assert self.store is not None
        self.query_one(MetricsView).show_summaries(record.row_id, record.summary, self.store.conn)
        if record.status == "running":
            self.set_interval(1.0, self._tick)
        self.set_focus(self.query_one("#metrics-table"))  # at once (see `_focus_pane`)
        if (live := self._live()) is not None:
            live.watch_points(self.run_uuid, {n: s.last_step for n, s in record.summary.items()})

    def on_unmount(self) -> None:
        if (live := self._live()) is not None:
            live.unwatch_points(self.run_uuid)
            live.unfollow_log(self.run_uuid)
        if self.store is not None:
            self.store.close()

    def _show_record(self, record: RunRecord) -> None:
        self.record = record
        self.query_one(RunHeader).show(record, self.clock())

    def _tick(self) -> None:
        """Keep a running run's duration current."""
        if self.record is not None and self.record.status == "running":
            self.query_one(RunHeader).show(self.record, self.clock())

    @on(TabbedContent.TabActivated, "#run-tabs")
    async def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane
        if pane.id == "logs":
            self._open_logs()
        elif pane.id != "metrics" and not pane.children:
            await self._fill_pane(pane)
        if pane.id == self._focus_wanted:
            self._focus_wanted = None
            self._focus_pane(pane.id)

    async def _fill_pane(self, pane: TabPane) -> None:
        """Build a tab's content the first time it is shown (opening a run stays cheap)."""
        store, record = self.store, self.record
        if store is None or record is None:
            return
        if pane.id == "params":
            params = ParamsView(id="params-view")
            await pane.mount(params)
            params.show(record.params, record.tags)
        elif pane.id == "code":
            code = CodeView(self.store_path, record.snapshot_id, record.git_diff, id="code-view")
            await pane.mount(code)
            code.load()
        elif pane.id == "env":
            env = EnvView(id="env-view")
            await pane.mount(env)
            env.show(record)
        elif pane.id == "artifacts":
            artifacts = ArtifactsView(clock=self.clock, id="artifacts-view")
            await pane.mount(artifacts)
            artifacts.show(store.artifacts(record), store.artifact_path)

    def _open_logs(self) -> None:
        """Read the log's end (once, in a thread) and, while the run is running, follow
        it live from then on (an ended run's unfinished last line is just its last line)."""
        logs = self.query_one(LogView)
        if logs.loaded:
            return
        logs.load()
        running = self.record is None or self.record.status == "running"
        if running and (live := self._live()) is not None:
            live.follow_log(self.run_uuid, TAIL_LINES)

    def _focus_pane(self, pane: str | None) -> None:
        """Focus the main widget of a tab chosen from the keyboard.

        Only for key-driven switches: `TabbedContent` itself activates the tab
        of whatever gets focus, so focusing on every activation would make
        two quick switches chase each other.
        """
        targets = {
            "metrics": "#metrics-table",
            "logs": "#log",
            "params": "#params-view",
            "code": "#code-tree",
            "env": "#env-view",
            "artifacts": "#artifacts-view DataTable",
        }
        if pane in targets and self.tabs.active == pane:  # not a tab left since
            for widget in self.query(targets[pane]):
                self.set_focus(widget)  # at once: a deferred focus could pull the tab back

    # -- live updates ----------------------------------------------------

    def _live(self) -> LiveUpdates | None:
        live = getattr(self.app, "live", None)
        return live if isinstance(live, LiveUpdates) else None

    def on_runs_changed(self, event: RunsChanged) -> None:
        """Live: the run's status, heartbeat, params or summaries changed."""
        record = next((r for r in event.changed if r.uuid == self.run_uuid), None)
        if record is not None and self.record is not None:
            self._show_record(record)
            for params in self.query(ParamsView):
                params.show(record.params, record.tags)

    def on_points_added(self, event: PointsAdded) -> None:
        """Live: new points; the summaries are read here (a few ms), the chart in a worker."""
        if event.run_uuid != self.run_uuid or self.store is None or self.record is None:
            return
        try:
            record = self.store.run(self.run_uuid)
        except RuntuiError:
            return  # deleted meanwhile
        self._show_record(record)
        self.query_one(MetricsView).show_summaries(record.row_id, record.summary)

    def on_log_lines_added(self, event: LogLinesAdded) -> None:
        if event.run_uuid == self.run_uuid:
            for logs in self.query(LogView):
                logs.show_live(event.lines, event.reset, event.partial)

    def reload_run(self) -> None:
        """Re-read the run (status, error, params, metric summaries) after it changed."""
        if self.store is None:
            return
        try:
            record = self.store.run(self.run_uuid)
        except RuntuiError:
            return  # deleted meanwhile: keep showing what we had
        self._show_record(record)
        for params in self.query(ParamsView):
            params.show(record.params, record.tags)
        self.query_one(MetricsView).refresh_metrics()

    def append_lines(self, lines: Iterable[str]) -> None:
        """Add newly captured output lines to the Logs tab (once it has been opened).

        Before the tab is first shown there is nothing to append to: it reads
        the end of the file, new lines included, when it opens.
        """
        for logs in self.query(LogView):
            if logs.loaded:
                logs.append_lines(lines)

    # -- actions ---------------------------------------------------------

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#run-tabs", TabbedContent)

    def action_show_tab(self, tab: str) -> None:
        if self.record is not None:
            self._switch_to(tab)

    def _switch_to(self, tab: str) -> None:
        if self.tabs.active == tab:
            self._focus_pane(tab)
            return
        self._focus_wanted = tab
        if tab == "logs":  # start reading before the switch's layout, not after it
            self._open_logs()
        self.tabs.active = tab

    def action_step_tab(self, direction: int) -> None:
        if self.record is None:
            return
        ids = [tab for tab, _ in TABS]
        current = ids.index(self.tabs.active) if self.tabs.active in ids else 0
        self._switch_to(ids[(current + direction) % len(ids)])

    def action_toggle_error(self) -> None:
        if self.record is not None:
            self.query_one(RunHeader).toggle_error()

    def action_compare_previous(self) -> None:
        """Compare this run with the run of its experiment started just before it."""
        from runtui.store.neighbours import previous_run
        from runtui.tui.screens.compare import CompareScreen

        if self.store is None or self.record is None:
            return
        previous = previous_run(self.store.conn, self.record.row_id)
        if previous is None:
            self.notify("This is the first run of its experiment: nothing before it to compare.")
            return
        self.app.push_screen(
            CompareScreen(self.store_path, [previous, self.run_uuid], clock=self.clock)
        )

    def action_back(self) -> None:
        if self.record is not None:
            active = self.tabs.active
            if active == "logs" and any(v.handle_escape() for v in self.query(LogView)):
                return
            metrics = self.query_one(MetricsView)
            if active == "metrics" and metrics.enlarged:
                metrics.action_enlarge()
                return
        self.app.pop_screen()
