"""The main screen: experiments on the left, the runs of the chosen one on the right.

The screen owns the *view* (experiment, filter, sort) and the column choice;
`RunsTable` draws it and `RunSource` reads it. Every change of view goes
through `apply_view`, which leaves everything as it was when the new view
cannot be read (a bad filter), so the table always shows the last good result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from runtui.errors import QueryError
from runtui.store.reader import Store
from runtui.store.records import Experiment, RunRecord
from runtui.tui import columns as cols
from runtui.tui import render, settings
from runtui.tui.live import LiveBadge, RunsChanged
from runtui.tui.runs_source import RunSource, View
from runtui.tui.widgets.column_chooser import ColumnChoice, ColumnChooser
from runtui.tui.widgets.experiments import ExperimentList
from runtui.tui.widgets.filter_bar import FilterBar
from runtui.tui.widgets.runs_table import RunsTable
from runtui.tui.widgets.status_line import StatusLine

TICK_S = 1.0
AGES_EVERY = 30  # ticks between redraws of every visible row ("5m ago" moving on)


class MainScreen(Screen[None]):
    # Below 100 columns the experiments list is hidden (the table needs the room);
    # `e` shows it while it has focus.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="main.filter"),
        Binding("c", "columns", "Columns", id="main.columns"),
        Binding("escape", "clear_filter", "Clear filter", id="main.clear_filter"),
        Binding("e", "focus_experiments", "Experiments", id="main.experiments"),
        Binding("d", "compare", "Compare", id="main.compare"),
        Binding("b", "set_base", "Set base", show=False, id="main.base"),
    ]

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.source = RunSource(store)
        self.ui = settings.load(store.path)
        self._filter_before_edit = ""
        self._ticks = 0
        self._widths: dict[str, int] = {}  # columns only widen, so they do not jump about
        self._experiments: list[Experiment] = []
        self._had_filter = False
        self.base: RunRecord | None = None  # `b`: what `d` compares the cursor run with

    # -- layout -----------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="title")
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield Static("Experiments", classes="pane-title")
                yield ExperimentList(id="experiments")
            with Vertical(id="runs-pane"):
                yield StatusLine(id="view-status")
                yield RunsTable(
                    self.source,
                    clock=self.clock,
                    empty_text="No runs match. Press / to change the filter, escape to clear it.",
                    id="runs",
                )
                yield FilterBar(id="filter-bar")
        yield Footer()
        yield LiveBadge()

    def _title(self) -> Text:
        title = Text.assemble(("runtui", "bold"), "  ")
        title.append_text(render.safe(render.display_path(self.store.path), style="dim"))
        return title

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def on_mount(self) -> None:
        self.filter_bar.display = False
        self._experiments = self.store.experiments()
        self.query_one(ExperimentList).show_experiments(self._experiments, None)
        self.apply_view(self.source.view)
        self.table.focus()
        self.set_interval(TICK_S, self._tick)

    # -- the view ---------------------------------------------------------

    def apply_view(
        self, view: View, keep: int | None = None, *, columns: bool = True
    ) -> QueryError | None:
        """Show ``view``; on a bad filter return the error and change nothing.

        The cursor stays on the run it was on (or goes to row id ``keep``).
        ``columns=False`` keeps the columns as they are (while a filter is
        typed: working out which params vary costs a scan of the view).
        """
        if keep is None:
            current = self.table.current_record()
            keep = current.row_id if current is not None else None
        try:
            self.source.load(view)
        except QueryError as error:
            return error
        if columns:
            self._rebuild_columns()
        self.table.refresh_rows(keep)
        self._update_status()
        return None

    def _rebuild_columns(self) -> None:
        total = len(self.source)
        param_stats = self.source.param_stats()
        top = int(self.table.scroll_y)
        sample = self.source.records(top, top + max(self.table.size.height, 40))
        if self.ui.params is None:
            params = cols.varying_params(param_stats, total)
        else:
            present = {s.name for s in param_stats}
            params = [p for p in self.ui.params if p in present]
        auto = self.ui.metrics is None
        metrics = cols.default_metrics(sample) if auto else list(self.ui.metrics or ())
        several = self.source.view.experiment is None and len(self._experiments) > 1
        built = cols.build_columns(params, metrics, sample, self._widths, experiment=several)
        self._widths.update((c.key, c.width) for c in built)
        self.table.set_columns(built)

    def shown_params(self) -> list[str]:
        return [c.label for c in self.table.columns if c.key.startswith("param:")]

    def shown_metrics(self) -> list[str]:
        return [c.label for c in self.table.columns if c.key.startswith("metric:")]

    def _update_status(self) -> None:
        view = self.source.view
        total = len(self.source)
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append_text(
            render.safe(view.experiment) if view.experiment else Text("all experiments")
        )
        line.append(f" · {total:,} run{'s' if total != 1 else ''}", style="dim")
        if view.filter.strip():
            line.append(" · filter ", style="dim")
            line.append_text(render.safe(view.filter, style="bold"))
        sort = next((c.label for c in self.table.columns if c.sort == view.sort), view.sort.name)
        line.append(" · sorted by ", style="dim")
        line.append_text(render.safe(sort))
        line.append(" ▼" if view.descending else " ▲", style="dim")
        if self.table.marked:
            line.append(f" · {len(self.table.marked)} marked", style="bold")
        if self.base is not None:
            line.append(" · base ", style="dim")
            line.append_text(render.safe(self.base.name, style="bold"))
        self.query_one("#view-status", StatusLine).text = line
        if bool(view.filter) != self._had_filter:  # "esc Clear filter" comes or goes
            self._had_filter = bool(view.filter)
            self.refresh_bindings()

    def refresh_experiments(self) -> None:
        self._experiments = self.store.experiments()
        self.query_one(ExperimentList).show_experiments(
            self._experiments, self.source.view.experiment
        )

    def _tick(self) -> None:
        """Keep durations of running runs current, and every minute the relative times."""
        self._ticks += 1
        table = self.table
        if self._ticks % AGES_EVERY == 0:
            table.forget_drawn()
            return
        top = int(table.scroll_y)
        visible = self.source.records(top, top + table.size.height)
        running = [r.row_id for r in visible if r.status == "running"]
        if running:
            table.forget_drawn(running)

    # -- events -----------------------------------------------------------

    def on_runs_changed(self, event: RunsChanged) -> None:
        """Live: apply runs created, changed or deleted meanwhile, keeping cursor and marks."""
        self.source.update_records(event.changed)
        if event.new or event.removed:
            self.table.marked.difference_update(event.removed)
            self.apply_view(self.source.view)
            self.refresh_experiments()
        else:
            self.table.refresh()

    def on_experiment_list_chosen(self, event: ExperimentList.Chosen) -> None:
        if event.experiment != self.source.view.experiment:
            self.apply_view(self.source.with_view(experiment=event.experiment))

    def on_option_list_option_selected(self, event: ExperimentList.OptionSelected) -> None:
        """Enter on an experiment: go to its runs."""
        if isinstance(event.option_list, ExperimentList):
            self.table.focus()

    def on_runs_table_sort_requested(self, event: RunsTable.SortRequested) -> None:
        self.apply_view(self.source.with_view(sort=event.sort, descending=event.descending))

    def on_runs_table_marks_changed(self) -> None:
        self._update_status()

    def on_runs_table_opened(self, event: RunsTable.Opened) -> None:
        self.open_run(event.record.uuid)

    def open_run(self, uuid: str) -> None:
        from runtui.tui.screens.run import RunScreen

        self.app.push_screen(RunScreen(self.store.path, uuid))

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        error = self.apply_view(self.source.with_view(filter=event.text), columns=False)
        self.filter_bar.show_error(error)

    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        error = self.apply_view(self.source.with_view(filter=event.text))
        self.filter_bar.show_error(error)
        if error is None:
            self.filter_bar.close()
            self.table.focus()

    def on_filter_bar_cancelled(self) -> None:
        self.apply_view(self.source.with_view(filter=self._filter_before_edit))
        self.filter_bar.close()
        self.table.focus()

    # -- actions ----------------------------------------------------------

    def action_filter(self) -> None:
        import runtui.query  # noqa: F401  (loaded now rather than on the first key typed)

        self._filter_before_edit = self.source.view.filter
        self.filter_bar.open(self.source.view.filter)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.source.view.filter)
        return True

    def action_clear_filter(self) -> None:
        if self.source.view.filter:
            self.apply_view(self.source.with_view(filter=""))

    def action_focus_experiments(self) -> None:
        self.add_class("-experiments")
        self.query_one(ExperimentList).focus()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if isinstance(event.widget, ExperimentList):
            self.remove_class("-experiments")

    def action_columns(self) -> None:
        chooser = ColumnChooser(
            self.source.param_stats(),
            self.source.metric_stats(),
            self.shown_params(),
            self.shown_metrics(),
        )
        self.app.push_screen(chooser, self._columns_chosen)

    def _columns_chosen(self, choice: ColumnChoice | None) -> None:
        if choice is None:
            return
        self.set_columns(choice.params, choice.metrics)

    def set_columns(self, params: list[str] | None, metrics: list[str] | None) -> None:
        """Show these params and metrics (None: automatic) and remember it for this store."""
        self.ui.params = params
        self.ui.metrics = metrics
        if not settings.save(self.store.path, self.ui):
            self.notify("Could not save the column choice in the store folder.", severity="warning")
        self._rebuild_columns()
        self._update_status()

    def toggle_column(self, kind: str, name: str) -> None:
        """Show or hide one param (kind "param") or metric ("metric")."""
        params, metrics = self.shown_params(), self.shown_metrics()
        shown = params if kind == "param" else metrics
        if name in shown:
            shown.remove(name)
        else:
            shown.append(name)
        self.set_columns(params, metrics)

    def action_compare(self) -> None:
        """Compare the marked runs (2-8, oldest first), or the cursor run with the base."""
        from runtui.tui.screens.compare import CompareScreen
        from runtui.tui.widgets.compare_runs import MAX_RUNS

        marked = self.table.marked
        if marked:
            if not 2 <= len(marked) <= MAX_RUNS:
                self.notify(
                    f"{len(marked)} run{'s' if len(marked) != 1 else ''} marked: "
                    f"compare takes 2 to {MAX_RUNS} (space marks or unmarks a run).",
                    severity="warning",
                )
                return
            runs = sorted((self.store.run(uuid) for uuid in marked), key=lambda r: r.started_at)
            uuids = [r.uuid for r in runs]
        else:
            current = self.table.current_record()
            if self.base is None or current is None or current.uuid == self.base.uuid:
                self.notify(
                    "Mark 2 to 8 runs with space, or set a base run with b and move to "
                    "another run, then press d to compare.",
                    severity="warning",
                )
                return
            uuids = [self.base.uuid, current.uuid]
        self.app.push_screen(CompareScreen(self.store.path, uuids, clock=self.clock))

    def action_set_base(self) -> None:
        """Make the cursor run the base that `d` compares with (again on it: unset)."""
        current = self.table.current_record()
        if current is None:
            return
        if self.base is not None and self.base.uuid == current.uuid:
            self.base = None
            self.notify("Base cleared.")
        else:
            self.base = current
            name = render.safe(current.name).plain
            self.notify(f"Base: {name}. Move to another run and press d to compare.", markup=False)
        self._update_status()

    def switch_experiment(self, experiment: str | None) -> None:
        self.query_one(ExperimentList).select_name(experiment)
        if experiment != self.source.view.experiment:
            self.apply_view(self.source.with_view(experiment=experiment))

    def jump_to_run(self, row_id: int) -> None:
        """Put the cursor on a run, widening the view (all experiments, no filter) if needed."""
        if not self.table.move_to(row_id):
            self.query_one(ExperimentList).select_name(None)
            self.apply_view(self.source.with_view(experiment=None, filter=""), keep=row_id)
