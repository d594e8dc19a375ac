"""A line chart of one metric: step or time on x, optional smoothing and log-scale y.

Built on textual-plotext, which rebuilds the whole figure on every repaint,
so the chart only ever holds a few hundred points per line: the series it
is given is already downsampled (`runtui.services.downsample`), and the
smoothed line is downsampled again to the widget's width. NaN and ±inf are
dropped before plotting (plotext cannot place them), as are values <= 0
on a log scale. The log scale is drawn as log10 of the values with
relabelled ticks: plotext's own ``yscale("log")`` transforms its data in
place on every build, so the second repaint failed.
"""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from runtui.services.downsample import Series, ema, minmax_indices
from runtui.services.textsafe import plain

SMOOTHING_STEPS = (0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99)


def time_unit(seconds: float) -> tuple[str, float]:
    """A readable unit for an x axis spanning ``seconds``: (name, seconds per unit)."""
    if seconds < 300:
        return "s", 1.0
    if seconds < 5 * 3600:
        return "min", 60.0
    return "h", 3600.0


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick positions (in log10 units) for a log-scale axis from ``lo`` to ``hi``.

    Whole decades when the data spans at least two, else five even steps.
    """
    first, last = math.ceil(lo), math.floor(hi)
    if last - first >= 2:
        stride = max(1, (last - first) // 6)
        return [float(t) for t in range(first, last + 1, stride)]
    if hi <= lo:
        return [lo]
    return [lo + (hi - lo) * i / 4 for i in range(5)]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick positions (steps of 1, 2, 2.5 or 5 × 10^k) within [lo, hi]."""
    span = hi - lo
    if span <= 0 or not math.isfinite(span):
        return [lo]
    raw = span / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(0.6 * raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= 0.6 * raw)
    first = math.ceil(lo / step)
    return [round(i * step, 12) for i in range(first, math.floor(hi / step) + 1)]


def tick_label(value: float) -> str:
    """``750k``, ``1.5M``, ``0.25``: short labels for an x axis."""
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


class MetricChart(PlotextPlot):
    """The enlarged chart of one metric."""

    DEFAULT_CSS = """
    MetricChart {
        height: 1fr;
        min-height: 8;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.metric: str | None = None
        self.series: Series | None = None
        self.x_axis = "step"
        self.log_y = False
        self.smoothing = 0.0
        self.can_focus = True

    def on_unmount(self) -> None:
        # PlotextPlot subscribes to theme changes with a callback that holds the widget and
        # never unsubscribes: without this, every chart ever shown stays in memory (and in
        # every later garbage collection: the run screen's tab switches slowed as runs
        # were opened and closed).
        self.app.theme_changed_signal.unsubscribe(self)

    def show(self, metric: str | None, series: Series | None) -> None:
        """Draw ``series`` for ``metric`` (None: an empty chart)."""
        self.metric, self.series = metric, series
        self.replot()

    def toggle_x_axis(self) -> None:
        self.x_axis = "time" if self.x_axis == "step" else "step"
        self.replot()

    def toggle_log_y(self) -> None:
        self.log_y = not self.log_y
        self.replot()

    def change_smoothing(self, direction: int) -> None:
        """Move one notch along `SMOOTHING_STEPS` (``direction`` is +1 or -1)."""
        i = min(range(len(SMOOTHING_STEPS)), key=lambda j: abs(SMOOTHING_STEPS[j] - self.smoothing))
        i = max(0, min(len(SMOOTHING_STEPS) - 1, i + direction))
        self.smoothing = SMOOTHING_STEPS[i]
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        series = self.series
        if self.metric is not None:
            plt.title(plain(self.metric))
        if series is None:
            self.refresh()
            return
        xs_line = series.steps if self.x_axis == "step" else series.seconds
        xs_base = series.base_steps if self.x_axis == "step" else series.base_seconds
        scale = 1.0
        if self.x_axis == "time":
            span = max(xs_line, default=0.0) - min(xs_line, default=0.0)
            unit, scale = time_unit(span)
            plt.xlabel(f"time since start ({unit})")
        else:
            plt.xlabel("step")
        width = max(10, self.size.width - 10)
        smoothing = self.smoothing
        raw_x, raw_y = self._drawable(xs_line, series.values, scale)
        if raw_x:
            plt.plot(raw_x, raw_y, marker="braille", color="gray" if smoothing else "cyan+")
        if smoothing and series.base_values:
            smooth = ema(series.base_values, smoothing)
            idx = minmax_indices(xs_base, smooth, width)
            sx, sy = self._drawable([xs_base[i] for i in idx], [smooth[i] for i in idx], scale)
            if sx:
                plt.plot(sx, sy, marker="braille", color="cyan+")
        if raw_x:
            ticks = nice_ticks(min(raw_x), max(raw_x))
            plt.xticks(ticks, [tick_label(t) for t in ticks])
        if self.log_y and raw_y:
            ticks = log_ticks(min(raw_y), max(raw_y))
            plt.yticks(ticks, [f"{10**t:.3g}" for t in ticks])
        self.refresh()

    def _drawable(
        self, xs: list[float], ys: list[float], scale: float
    ) -> tuple[list[float], list[float]]:
        """Finite points, x divided by ``scale``; on a log scale, log10 of the positive ones."""
        isfinite, log_y = math.isfinite, self.log_y
        out_x, out_y = [], []
        for x, y in zip(xs, ys, strict=True):
            if isfinite(x) and isfinite(y) and (y > 0 or not log_y):
                out_x.append(x / scale)
                out_y.append(math.log10(y) if log_y else y)
        return out_x, out_y

    def on_resize(self) -> None:
        if self.series is not None and self.smoothing:
            self.replot()  # the smoothed line is downsampled to the width
