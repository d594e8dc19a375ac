"""A table of metrics beside the chart of the chosen one, with the chart's keys.

The run screen's Metrics tab and the compare screen's Metrics tab are both
this: ``x`` step/time, ``l`` log-y, ``+``/``-`` smoothing, ``f`` to give the
chart the whole tab and back. Subclasses say which widgets those are and
what the status line says.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable

from runtui.tui.widgets.chart import MetricChart


class ChartPanel(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "toggle_x", "step/time"),
        Binding("l", "toggle_log", "log-y"),
        Binding("plus,equals_sign", "smoothing(1)", "smooth+", key_display="+"),
        Binding("minus", "smoothing(-1)", "smooth-", key_display="-"),
        Binding("f", "enlarge", "enlarge"),
    ]

    @property
    def chart(self) -> MetricChart:
        return self.query_one(MetricChart)

    @property
    def table(self) -> DataTable:
        return self.query_one(DataTable)

    def _update_status(self) -> None:
        """Say what the chart shows (its axis, scale and smoothing) after a key changed it."""

    @property
    def enlarged(self) -> bool:
        return self.has_class("enlarged")

    def action_enlarge(self) -> None:
        """Give the chart the whole tab (or give the table back)."""
        self.toggle_class("enlarged")
        (self.chart if self.enlarged else self.table).focus()

    def action_toggle_x(self) -> None:
        self.chart.toggle_x_axis()
        self._update_status()

    def action_toggle_log(self) -> None:
        self.chart.toggle_log_y()
        self._update_status()

    def action_smoothing(self, direction: int) -> None:
        self.chart.change_smoothing(direction)
        self._update_status()
