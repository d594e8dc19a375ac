"""One metric of several runs in one chart: a curve per run, each in its run's colour.

`OverlayChart` is the run screen's `MetricChart` (same step/time x axis,
log-y and smoothing notches, same toggles) drawing several series. Each
curve ends in its run's letter, and the legend under the chart names the
letters, so the chart reads without colour. With smoothing on, only the
smoothed curves are drawn: raw curves of eight runs would hide them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runtui.services.downsample import Series, ema, minmax_indices
from runtui.services.textsafe import plain
from runtui.tui.widgets.chart import (
    MetricChart,
    log_ticks,
    nice_ticks,
    tick_label,
    time_unit,
)


@dataclass(frozen=True)
class Curve:
    """One run's series: ``label`` is its letter, ``color`` a plotext colour name."""

    label: str
    color: str
    series: Series | None


class OverlayChart(MetricChart):
    """`MetricChart` with one curve per run."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.curves: list[Curve] = []

    def show_curves(self, metric: str | None, curves: Sequence[Curve]) -> None:
        """Draw ``curves`` of ``metric`` (runs without points are simply absent)."""
        self.curves = list(curves)
        self.metric = metric
        self.series = next((c.series for c in curves if c.series is not None), None)
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        if self.metric is not None:
            plt.title(plain(self.metric))
        drawn = [c for c in self.curves if c.series is not None]
        if not drawn:
            self.refresh()
            return
        by_step = self.x_axis == "step"
        scale = 1.0
        if by_step:
            plt.xlabel("step")
        else:
            span = max((max(c.series.seconds, default=0.0) for c in drawn if c.series), default=0.0)
            unit, scale = time_unit(span)
            plt.xlabel(f"time since start ({unit})")
        width = max(10, self.size.width - 10)
        all_x: list[float] = []
        all_y: list[float] = []
        for curve in drawn:
            xs, ys = self._curve_points(curve.series, by_step, width, scale)  # type: ignore[arg-type]
            if not xs:
                continue
            plt.plot(xs, ys, marker="braille", color=curve.color)
            plt.text(curve.label, xs[-1], ys[-1], color=curve.color, style="bold")
            all_x += (min(xs), max(xs))
            all_y += ys
        if all_x:  # round ticks, as the run screen's chart has (not 6243.8 for steps)
            ticks = nice_ticks(min(all_x), max(all_x))
            plt.xticks(ticks, [tick_label(t) for t in ticks])
        if self.log_y and all_y:
            ticks = log_ticks(min(all_y), max(all_y))
            plt.yticks(ticks, [f"{10**t:.3g}" for t in ticks])
        self.refresh()

    def _curve_points(
        self, series: Series, by_step: bool, width: int, scale: float
    ) -> tuple[list[float], list[float]]:
        if not self.smoothing or not series.base_values:
            xs = series.steps if by_step else series.seconds
            return self._drawable(xs, series.values, scale)
        base_x = series.base_steps if by_step else series.base_seconds
        smooth = ema(series.base_values, self.smoothing)
        idx = minmax_indices(base_x, smooth, width)
        return self._drawable([base_x[i] for i in idx], [smooth[i] for i in idx], scale)
