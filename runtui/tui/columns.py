"""Which columns the runs table shows, how wide, and how each cell is drawn.

Fixed columns first (status, name, id, started, duration), then metrics
(last value and a sparkline in one cell: what a glance at the table is
for), then params, then the experiment when several are shown. Params
default to those that vary across the runs of the view; metrics default to
the most logged ones. The column chooser replaces either default with an
explicit list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from rich.text import Text

from runtui.services.units import format_duration
from runtui.store.records import RunRecord
from runtui.store.tableview import KeyStats, SortKey
from runtui.tui import render

AUTO_METRICS = 2
SPARK_WIDTH = 10
VALUE_WIDTH = 10  # fits {:.4g} of floats down to -9.999e-99
METRIC_WIDTH = VALUE_WIDTH + 1 + SPARK_WIDTH
PARAM_MAX_WIDTH = 16
NAME_WIDTH = (14, 30)
EXPERIMENT_MAX_WIDTH = 20
EXPERIMENT_SORT = SortKey("run", "experiment")


@dataclass(frozen=True)
class CellContext:
    """What a cell needs besides its run: the time now and the colours of the theme."""

    now: float
    status_styles: Mapping[str, str] = field(default_factory=dict)
    spark_style: str = ""


CellFn = Callable[[RunRecord, CellContext], Text]


@dataclass(frozen=True)
class Column:
    key: str  # "status", "name", …, "param:<name>", "metric:<name>"
    label: str  # may be user text: always rendered as Text
    width: int
    sort: SortKey
    cell: CellFn
    justify: str = "left"


def _status(r: RunRecord, c: CellContext) -> Text:
    return render.status_text(r.status, c.status_styles)


def _name(r: RunRecord, c: CellContext) -> Text:
    return render.safe(r.name)


def _experiment(r: RunRecord, c: CellContext) -> Text:
    return render.safe(r.experiment)


def _id(r: RunRecord, c: CellContext) -> Text:
    return Text(r.id[:8], style="dim")


def _started(r: RunRecord, c: CellContext) -> Text:
    return Text(render.relative_time(r.started_at, c.now))


def _duration(r: RunRecord, c: CellContext) -> Text:
    return Text(format_duration(render.duration_of(r.started_at, r.ended_at, c.now)))


def _param_cell(name: str) -> CellFn:
    def cell(r: RunRecord, c: CellContext) -> Text:
        if name not in r.params:
            return Text(render.DASH, style="dim")
        return render.safe(r.params[name])

    return cell


def _metric_cell(name: str) -> CellFn:
    def cell(r: RunRecord, c: CellContext) -> Text:
        summary = r.summary.get(name)
        if summary is None:
            return Text(render.DASH, style="dim")
        value = render.fit(Text(render.format_number(summary.last)), VALUE_WIDTH, "right")
        spark = render.spark_text(summary.spark, SPARK_WIDTH, c.spark_style)
        return Text.assemble(value, " ", spark)

    return cell


FIXED: tuple[Column, ...] = (  # widths leave room for the sort arrow after the label
    Column("status", "status", 11, SortKey("run", "status"), _status),
    Column("name", "name", NAME_WIDTH[0], SortKey("run", "name"), _name),
    Column("id", "id", 8, SortKey("run", "id"), _id),
    Column("started", "started", 9, SortKey("run", "started"), _started, "right"),
    Column("duration", "duration", 10, SortKey("run", "duration"), _duration, "right"),
)


def varying_params(stats: Sequence[KeyStats], total: int) -> list[str]:
    """Params whose value differs between runs of the view (or that some runs lack)."""
    return [s.name for s in stats if s.distinct > 1 or (0 < s.runs < total)]


def default_metrics(sample: Sequence[RunRecord], count: int = AUTO_METRICS) -> list[str]:
    """The metrics most of the ``sample`` runs logged, system metrics (``sys/``) last.

    Judged on the rows on screen: counting over every run of a large view
    means scanning all its metric summaries.
    """
    runs: dict[str, int] = {}
    for record in sample:
        for name in record.summary:
            runs[name] = runs.get(name, 0) + 1
    ranked = sorted(runs, key=lambda name: (name.startswith("sys/"), -runs[name], name))
    return ranked[:count]


def build_columns(
    params: Sequence[str],
    metrics: Sequence[str],
    sample: Sequence[RunRecord],
    at_least: Mapping[str, int] | None = None,
    *,
    experiment: bool = False,
) -> list[Column]:
    """Columns for these params and metrics, widths fitted to the ``sample`` rows.

    ``at_least`` gives minimum widths by column key (the widths shown so far);
    ``experiment`` adds the experiment column (for a view of several).
    """
    at_least = at_least or {}
    columns = list(FIXED)
    name_width = max([at_least.get("name", 0), *(render.safe(r.name).cell_len for r in sample)])
    columns[1] = _with_width(columns[1], min(max(name_width, NAME_WIDTH[0]), NAME_WIDTH[1]))
    clash = set(params) & set(metrics)  # a param and a metric of one name: say which is which
    for name in metrics:
        label = f"metrics.{name}" if name in clash else name
        columns.append(
            Column(
                f"metric:{name}", label, METRIC_WIDTH, SortKey("metric", name), _metric_cell(name)
            )
        )
    for name in params:
        label = f"params.{name}" if name in clash else name
        values = [render.safe(r.params[name]).cell_len for r in sample if name in r.params]
        widest = max([len(label) + 2, 4, at_least.get(f"param:{name}", 0), *values])
        width = min(widest, PARAM_MAX_WIDTH)
        sort = SortKey("param", name)
        columns.append(Column(f"param:{name}", label, width, sort, _param_cell(name), "right"))
    if experiment:  # last: the experiments list already says which one is which
        widest = max([at_least.get("experiment", 0), *(len(r.experiment) for r in sample)])
        width = min(max(widest, len("experiment") + 2), EXPERIMENT_MAX_WIDTH)
        columns.append(Column("experiment", "experiment", width, EXPERIMENT_SORT, _experiment))
    return columns


def _with_width(column: Column, width: int) -> Column:
    return Column(column.key, column.label, width, column.sort, column.cell, column.justify)
