"""The Metrics tab: every metric of a run in a table, the highlighted one as a chart.

The table comes from the run's summaries (kept by the writer), so it costs
nothing however many points there are. The chart's points are read in a
thread worker with its own read-only connection:

* up to `READ_ALL_LIMIT` points: all of them (smoothing then sees every point);
* more: first an index-seek sample (milliseconds, drawn at once), then the
  exact min/max band from one bucketed scan, which replaces the sample when
  it is ready. Moving to another metric interrupts a scan still running.

Exact series are cached per metric and point count, so going back to a
metric does not scan again. `refresh_metrics` re-reads the summaries and
the charted metric; a live-update feed calls it when new points were
written.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from runtui.errors import RuntuiError
from runtui.services.downsample import Series, series_from_buckets, series_from_points
from runtui.services.textsafe import plain
from runtui.store import history
from runtui.store.reader import open_store
from runtui.store.records import MetricSummary
from runtui.tui.render import format_number, spark_text
from runtui.tui.widgets.chart import MetricChart
from runtui.tui.widgets.chart_panel import ChartPanel
from runtui.tui.widgets.vim_table import VimDataTable

READ_ALL_LIMIT = 20_000
BIG_REFRESH_S = 10.0  # a live metric too long to read whole is re-scanned at most this often
SPARK_WIDTH = 24
HIGHLIGHT_DELAY_S = 0.12
_UPDATED_COLUMNS = ("trend", "last", "min", "max", "count", "step")


def quick_series(
    conn: sqlite3.Connection, run_row_id: int, name: str, summary: MetricSummary, buckets: int
) -> Series | None:
    """Every point of a short series, or a fast sample of a long one (None: no such metric)."""
    key = history.key_id(conn, name)
    if key is None:
        return None
    if summary.count <= READ_ALL_LIMIT:
        return series_from_points(history.read_points(conn, run_row_id, key), buckets)
    first, last = summary.first_step, summary.last_step
    points = history.sample(conn, run_row_id, key, first, last, 2 * buckets)
    return replace(series_from_points(points, buckets, exact=False), total=summary.count)


class MetricsView(ChartPanel):
    """Metric table (name, sparkline, last/min/max/count) above a chart of one metric."""

    DEFAULT_CSS = """
    MetricsView #metrics-table { height: auto; max-height: 45%; }
    MetricsView.enlarged #metrics-table { display: none; }
    MetricsView.no-metrics #metrics-table, MetricsView.no-metrics MetricChart { display: none; }
    MetricsView #chart-status { height: 1; padding: 0 1; color: $text-muted; }
    MetricsView #metrics-empty { padding: 1 2; color: $text-muted; }
    """

    def __init__(self, store_path: Path, run_uuid: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store_path = store_path
        self.run_uuid = run_uuid
        self.run_row_id = 0
        self.summaries: dict[str, MetricSummary] = {}
        self.charted: str | None = None
        self._cache: dict[str, tuple[int, Series]] = {}
        self._loading_conn: sqlite3.Connection | None = None
        self._conn_lock = threading.Lock()
        self._pending: str | None = None
        self._loaded_at: dict[str, float] = {}

    def compose(self) -> ComposeResult:
        table = VimDataTable(id="metrics-table", cursor_type="row", zebra_stripes=True)
        table.add_column("metric", key="metric")
        table.add_column("trend", key="trend", width=SPARK_WIDTH)
        for col in ("last", "min", "max", "count", "step"):
            table.add_column(col, key=col)
        yield table
        yield Static(id="chart-status", markup=False)
        yield MetricChart(id="chart")

    # -- data ------------------------------------------------------------

    def show_summaries(
        self,
        run_row_id: int,
        summaries: dict[str, MetricSummary],
        conn: sqlite3.Connection | None = None,
    ) -> None:
        """Fill (or update) the table; chart the first metric when nothing is charted yet.

        With ``conn`` (the screen's own connection, when the run is opened)
        the first chart's quick read happens at once, so the chart is part
        of the screen's first frame; the exact band still loads in a worker.
        """
        self.run_row_id = run_row_id
        table = self.query_one(DataTable)
        known = set(self.summaries)
        self.summaries = dict(summaries)
        for name in sorted(summaries):
            cells = self._cells(summaries[name])
            if name in known:
                for col, cell in zip(_UPDATED_COLUMNS, cells[1:], strict=True):
                    table.update_cell(name, col, cell, update_width=True)  # a live value grows
            else:
                table.add_row(*cells, key=name)
        self.set_class(not summaries, "no-metrics")
        if not summaries:
            self.query_one("#chart-status", Static).update(
                Text("no metrics were logged in this run (run.log(name, value) adds them)")
            )
            return
        if self.charted is None:
            self._chart(sorted(summaries)[0], conn=conn)
        elif self.charted in summaries:
            self._chart(self.charted, live=True)

    @staticmethod
    def _cells(s: MetricSummary) -> list[Text]:
        def num(v: float) -> Text:
            return Text(format_number(v), justify="right")

        return [
            Text(plain(s.name)),
            spark_text(s.spark, SPARK_WIDTH, style="green"),
            num(s.last),
            num(s.min),
            num(s.max),
            Text(f"{s.count:,}", justify="right"),
            Text(f"{s.last_step:,}", justify="right"),
        ]

    def refresh_metrics(self) -> None:
        """Re-read the run's summaries and the charted metric (new points were logged)."""
        self._load_summaries()

    @work(thread=True, exclusive=True, group="metric-summaries")
    def _load_summaries(self) -> None:
        try:
            with open_store(self.store_path, readonly=True) as store:
                record = store.run(self.run_uuid)
        except (RuntuiError, sqlite3.Error):
            return  # deleted or unreadable meanwhile: keep what is shown
        self.app.call_from_thread(self.show_summaries, record.row_id, record.summary)

    # -- chart -----------------------------------------------------------

    def _chart(
        self, name: str, *, live: bool = False, conn: sqlite3.Connection | None = None
    ) -> None:
        self.charted = name
        summary = self.summaries[name]
        cached = self._cache.get(name)
        if cached is not None and cached[0] == summary.count:
            self._show_series(name, cached[1])
            return
        if (
            live
            and cached is not None
            and summary.count > READ_ALL_LIMIT
            and time.monotonic() - self._loaded_at.get(name, 0.0) < BIG_REFRESH_S
        ):
            return
        self._interrupt()
        buckets = self._buckets()
        if conn is not None:
            series = quick_series(conn, self.run_row_id, name, summary, buckets)
            if series is not None:
                self._show_series(name, series)
                if series.exact:
                    return
            # the scan competes for the CPU: start it once the sample is on screen
            self.call_after_refresh(self._load_series, name, summary, buckets, False)
        else:
            self._update_status(loading=True)
            self._load_series(name, summary, buckets, quick=True)

    def _buckets(self) -> int:
        """One bucket per chart column (two braille dots), before layout: the terminal's width."""
        width = self.query_one(MetricChart).size.width or self.app.size.width
        return max(40, width - 10)

    def _interrupt(self) -> None:
        """Stop a bucketed scan still running for a metric no longer wanted."""
        with self._conn_lock:
            if self._loading_conn is not None:
                self._loading_conn.interrupt()

    @work(thread=True, exclusive=True, group="metric-chart")
    def _load_series(self, name: str, summary: MetricSummary, buckets: int, quick: bool) -> None:
        try:
            self._read_series(name, summary, buckets, quick)
        except (RuntuiError, sqlite3.Error) as exc:
            message = Text(f"{plain(name)} · cannot read its points: {exc}")
            self.app.call_from_thread(self.query_one("#chart-status", Static).update, message)

    def _read_series(self, name: str, summary: MetricSummary, buckets: int, quick: bool) -> None:
        with open_store(self.store_path, readonly=True) as store:
            conn = store.conn
            if quick:
                series = quick_series(conn, self.run_row_id, name, summary, buckets)
                if series is None:
                    return
                self.app.call_from_thread(self._show_series, name, series)
                if series.exact:
                    return
            key = history.key_id(conn, name)
            if key is None:
                return
            with self._conn_lock:
                self._loading_conn = conn
            try:
                bks = history.buckets(
                    conn, self.run_row_id, key, summary.first_step, summary.last_step, buckets
                )
            except sqlite3.OperationalError as exc:
                if "interrupt" in str(exc):
                    return  # another metric was chosen meanwhile
                raise
            finally:
                with self._conn_lock:
                    self._loading_conn = None
        self.app.call_from_thread(self._show_series, name, series_from_buckets(bks, summary.count))

    def _show_series(self, name: str, series: Series) -> None:
        if name != self.charted:
            return
        if series.exact:
            self._cache[name] = (series.total, series)
            self._loaded_at[name] = time.monotonic()
        self.query_one(MetricChart).show(name, series)
        self._update_status()

    def _update_status(self, *, loading: bool = False) -> None:
        chart = self.query_one(MetricChart)
        name = self.charted or ""
        series = chart.series if chart.metric == name else None
        parts = [plain(name)]
        if loading and series is None:
            parts.append("loading…")
        elif series is not None:
            note = "" if series.exact else " (sample; full band loading…)"
            parts.append(f"{series.total:,} points{note}")
        parts.append(f"x: {chart.x_axis}")
        parts.append(f"smoothing {chart.smoothing:g}" if chart.smoothing else "no smoothing")
        if chart.log_y:
            parts.append("log-y")
        self.query_one("#chart-status", Static).update(Text(" · ".join(parts)))

    @on(DataTable.RowHighlighted, "#metrics-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = event.row_key.value
        if name is None or name == self.charted:
            return
        self._pending = name
        self.set_timer(HIGHLIGHT_DELAY_S, self._chart_pending)

    def _chart_pending(self) -> None:
        name, self._pending = self._pending, None
        if name is not None and name != self.charted and name in self.summaries:
            self._chart(name)

    @on(DataTable.RowSelected, "#metrics-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        name = event.row_key.value
        if name is not None and name != self.charted:
            self._chart(name)
        self.action_enlarge()
