"""The compare screen's Metrics tab: last/min/max per run with deltas, and overlaid curves.

The table comes from the runs' summaries (no point is read for it): per
metric three rows (last, min, max), a column per run and, after each run
but the first, its difference to the first run (``Δ``). The metric of the
highlighted row is charted for every run at once; the points are read in
a thread worker with its own connection, the same way as the run screen
reads them (all points of short series, else a sample then the exact
min/max band).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from runtui.services.compare import STATS, MetricRow, metric_rows
from runtui.services.downsample import Series, series_from_buckets
from runtui.store import history
from runtui.store.reader import open_store
from runtui.store.records import RunRecord
from runtui.tui import render
from runtui.tui.widgets import compare_runs
from runtui.tui.widgets.chart_panel import ChartPanel
from runtui.tui.widgets.compare_chart import Curve, OverlayChart
from runtui.tui.widgets.metrics_view import quick_series
from runtui.tui.widgets.vim_table import VimDataTable

HIGHLIGHT_DELAY_S = 0.12
VALUE_WIDTH = 16
DELTA_WIDTH = 10  # "+2.227e-06"


def delta_text(value: float | None) -> Text:
    """``+0.25`` / ``-0.1`` / ``0``; a dash when a run lacks the metric."""
    if value is None:
        return Text(render.DASH, style="dim", justify="right")
    if value == 0:
        return Text("0", style="dim", justify="right")
    if math.isnan(value):
        return Text("nan", justify="right")
    return Text(f"{value:+.4g}", style="bold", justify="right")


class CompareMetrics(ChartPanel):
    """Summary table above an overlay chart of the highlighted metric."""

    DEFAULT_CSS = """
    CompareMetrics #cmp-metrics-table { height: auto; max-height: 45%; }
    CompareMetrics.enlarged #cmp-metrics-table { display: none; }
    CompareMetrics .compare-chart-status { height: 1; padding: 0 1; color: $text-muted; }
    CompareMetrics .compare-legend { height: auto; padding: 0 1; }
    """

    def __init__(self, store_path: Path, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store_path = store_path
        self.runs: list[RunRecord] = []
        self.rows: list[MetricRow] = []
        self.charted: str | None = None
        self._pending: str | None = None
        self._curves: dict[str, list[Curve]] = {}

    def compose(self) -> ComposeResult:
        yield VimDataTable(id="cmp-metrics-table", cursor_type="row")
        yield Static(classes="compare-chart-status", markup=False)
        yield OverlayChart(id="cmp-chart")
        yield Static(classes="compare-legend", markup=False)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#cmp-metrics-table", DataTable)

    @property
    def chart(self) -> OverlayChart:
        return self.query_one(OverlayChart)

    # -- table -----------------------------------------------------------

    def show(self, runs: Sequence[RunRecord]) -> None:
        self.runs = list(runs)
        self.rows = metric_rows(self.runs)
        table = self.table
        table.clear(columns=True)
        table.add_column(" ", key="mark", width=1)
        table.add_column("metric", key="metric")
        table.add_column("", key="stat")
        for i, run in enumerate(self.runs):
            table.add_column(
                compare_runs.heading(i, run, VALUE_WIDTH), key=f"run{i}", width=VALUE_WIDTH
            )
            if i:
                label = Text("Δ", style="bold")
                label.append(compare_runs.letter(i), style=compare_runs.style(i))
                table.add_column(label, key=f"delta{i}", width=DELTA_WIDTH)
        for row in self.rows:
            for n, stat in enumerate(STATS):
                table.add_row(*self._cells(row, n, stat), key=f"{stat}:{row.name}")
        self._legend()
        if not self.rows:
            self._status(Text("none of these runs logged a metric"))
            return
        self._chart(self.rows[0].name)

    def _cells(self, row: MetricRow, n: int, stat: str) -> list[Text]:
        """The cells of ``row``'s ``n``-th line: the stat ``stat`` of each run, with deltas."""
        cells: list[Text] = [
            Text("≠" if row.differs and not n else " ", style="bold yellow"),
            render.safe(row.name, style="bold" if row.differs else "") if not n else Text(""),
            Text(stat, style="dim"),
        ]
        for i in range(len(self.runs)):
            cells.append(Text(render.format_number(row.value(i, stat)), justify="right"))
            if i:
                cells.append(delta_text(row.delta(i, stat)))
        return cells

    def follow(self, runs: Sequence[RunRecord]) -> None:
        """Live: the same runs, newer. Values and deltas change in place (the cursor
        stays), and the chart is read again without a "loading" flicker."""
        rows = metric_rows(runs)
        if [r.name for r in rows] != [r.name for r in self.rows]:  # a metric appeared
            charted, row = self.charted, self.table.cursor_row
            self.show(runs)
            self.table.move_cursor(row=row)
            if charted is not None and charted != self.charted:
                self._chart(charted)
            return
        self.runs, self.rows = list(runs), rows
        table = self.table
        keys = [col.key for col in table.ordered_columns]
        for row in rows:
            for n, stat in enumerate(STATS):
                for key, cell in zip(keys, self._cells(row, n, stat), strict=True):
                    table.update_cell(f"{stat}:{row.name}", key, cell)
        self._curves.clear()  # the running runs' curves grew
        if self.charted is not None:
            width = self.chart.size.width or self.app.size.width
            self._load(self.charted, max(40, width - 10))

    def _legend(self) -> None:
        text = Text()
        for i, run in enumerate(self.runs):
            if i:
                text.append("   ")
            text.append_text(compare_runs.heading(i, run))
            text.append(f" ({compare_runs.COLOR_WORDS[i]})", style="dim")
        self.query_one(".compare-legend", Static).update(text)

    # -- chart -----------------------------------------------------------

    def _chart(self, name: str) -> None:
        self.charted = name
        if name in self._curves:
            self._show_curves(name, self._curves[name])
            return
        self._status(render.safe(f"{name} · loading…"))
        width = self.chart.size.width or self.app.size.width
        self._load(name, max(40, width - 10))

    @work(thread=True, exclusive=True, group="compare-chart")
    def _load(self, name: str, buckets: int) -> None:
        row = next(r for r in self.rows if r.name == name)
        with open_store(self.store_path, readonly=True) as store:
            conn = store.conn
            series: list[Series | None] = []
            for run, summary in zip(self.runs, row.summaries, strict=True):
                quick = quick_series(conn, run.row_id, name, summary, buckets) if summary else None
                series.append(quick)
            self.app.call_from_thread(self._loaded, name, series, False)
            if all(s is None or s.exact for s in series):
                return
            key = history.key_id(conn, name)
            for i, (run, summary) in enumerate(zip(self.runs, row.summaries, strict=True)):
                current = series[i]
                if summary is None or key is None or current is None or current.exact:
                    continue
                bks = history.buckets(
                    conn, run.row_id, key, summary.first_step, summary.last_step, buckets
                )
                series[i] = series_from_buckets(bks, summary.count)
        self.app.call_from_thread(self._loaded, name, series, True)

    def _loaded(self, name: str, series: list[Series | None], final: bool) -> None:
        curves = [
            Curve(compare_runs.letter(i), compare_runs.plot_color(i), s)
            for i, s in enumerate(series)
        ]
        if final or all(s is None or s.exact for s in series):
            self._curves[name] = curves
        if name == self.charted:
            self._show_curves(name, curves)

    def _show_curves(self, name: str, curves: list[Curve]) -> None:
        self.chart.show_curves(name, curves)
        self._update_status()

    def _update_status(self) -> None:
        chart = self.chart
        text = render.safe(self.charted or "", style="bold")
        missing = [c.label for c in chart.curves if c.series is None]
        parts = [f"x: {chart.x_axis}"]
        parts.append(f"smoothing {chart.smoothing:g}" if chart.smoothing else "no smoothing")
        if chart.log_y:
            parts.append("log-y")
        if missing:
            parts.append(f"not logged by {', '.join(missing)}")
        if any(c.series is not None and not c.series.exact for c in chart.curves):
            parts.append("sample; full band loading…")
        text.append(" · " + " · ".join(parts))
        self._status(text)

    def _status(self, text: Text) -> None:
        self.query_one(".compare-chart-status", Static).update(text)

    @on(DataTable.RowHighlighted, "#cmp-metrics-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = (event.row_key.value or ":").split(":", 1)[1]
        if not name or name == self.charted:
            return
        self._pending = name
        self.set_timer(HIGHLIGHT_DELAY_S, self._chart_pending)

    def _chart_pending(self) -> None:
        name, self._pending = self._pending, None
        if name is not None and name != self.charted:
            self._chart(name)

    @on(DataTable.RowSelected, "#cmp-metrics-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        name = (event.row_key.value or ":").split(":", 1)[1]
        if name and name != self.charted:
            self._chart(name)
        self.action_enlarge()
