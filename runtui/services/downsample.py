"""Making metric series small enough to draw, and smoothing them.

A terminal chart is at most a few hundred braille pixels wide, and plotting
every point of a long series costs ~20 µs per point on every repaint
(textual-plotext rebuilds the whole figure each time). So series are cut
into as many x-ranges ("buckets") as there are pixel columns, and each
bucket keeps its lowest and highest point: the drawn shape, spikes
included, is the same as with every point.

`ema` is TensorBoard's smoothing: an exponential moving average whose early
values are debiased (divided by ``1 - weight**n``) so the smoothed curve
starts at the data instead of rising from zero. Non-finite values pass
through unsmoothed and do not disturb the average.

Nothing here imports a UI library; the chart widget and the store's
bucketed history read both use these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from runtui.store.history import Bucket, Point

Points = tuple[list[float], list[float]]


def minmax_indices(xs: Sequence[float], ys: Sequence[float], buckets: int) -> list[int]:
    """Indices of at most ``2 * buckets`` finite points with the same drawn shape.

    ``xs`` must be ascending. The x range is cut into ``buckets`` equal parts;
    each part keeps its lowest and highest point, in their original order.
    Series already small enough keep every finite point.
    """
    if buckets < 1:
        raise ValueError("buckets must be at least 1")
    isfinite = math.isfinite
    keep = [i for i, (x, y) in enumerate(zip(xs, ys, strict=True)) if isfinite(x) and isfinite(y)]
    if len(keep) <= 2 * buckets:
        return keep
    x0 = xs[keep[0]]
    span = (xs[keep[-1]] - x0) or 1.0
    out: list[int] = []
    current = -1
    lo_i = hi_i = 0
    for i in keep:
        b = min(buckets - 1, int((xs[i] - x0) / span * buckets))
        if b != current:
            if current >= 0:
                out.extend(sorted({lo_i, hi_i}))
            current, lo_i, hi_i = b, i, i
        elif ys[i] < ys[lo_i]:
            lo_i = i
        elif ys[i] > ys[hi_i]:
            hi_i = i
    out.extend(sorted({lo_i, hi_i}))
    return out


def minmax(xs: Sequence[float], ys: Sequence[float], buckets: int) -> Points:
    """`minmax_indices` as the points themselves."""
    idx = minmax_indices(xs, ys, buckets)
    return [xs[i] for i in idx], [ys[i] for i in idx]


def envelope(
    spans: Sequence[tuple[float, float, float, float]],
) -> Points:
    """Points drawing pre-aggregated buckets ``(x_lo, x_hi, y_min, y_max)``.

    Each bucket becomes two points (one when min equals max). Which of min
    and max comes first is unknown, so the one nearer the previous point goes
    first: the connecting lines stay short and the shape reads as a band.
    """
    out_x: list[float] = []
    out_y: list[float] = []
    for x_lo, x_hi, y_min, y_max in spans:
        if y_min == y_max:
            out_x.append((x_lo + x_hi) / 2)
            out_y.append(y_min)
            continue
        first, second = y_min, y_max
        if out_y and abs(out_y[-1] - y_max) < abs(out_y[-1] - y_min):
            first, second = y_max, y_min
        out_x += [x_lo, x_hi]
        out_y += [first, second]
    return out_x, out_y


def ema(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's debiased exponential moving average (``weight`` in [0, 1))."""
    if not 0.0 <= weight < 1.0:
        raise ValueError("smoothing weight must be in [0, 1)")
    if weight == 0.0:
        return list(values)
    out: list[float] = []
    last = 0.0
    n = 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1.0 - weight) * v
        n += 1
        out.append(last / (1.0 - weight**n))
    return out


@dataclass(frozen=True)
class Series:
    """What a chart draws for one metric, with either step or time on the x axis.

    ``steps``/``seconds``/``values`` is the line as drawn (already small).
    ``base_*`` are the points smoothing runs over: every point when they were
    all read, else the bucket means or the sample. ``exact`` is False while
    the line is only a sample of a longer series (spikes may be missing).
    """

    steps: list[float]
    seconds: list[float]
    values: list[float]
    base_steps: list[float]
    base_seconds: list[float]
    base_values: list[float]
    total: int
    exact: bool = True


def series_from_points(points: Sequence[Point], buckets: int, *, exact: bool = True) -> Series:
    """A series from raw points (all of them, or a sample when ``exact`` is False)."""
    steps = [float(p[0]) for p in points]
    seconds = [p[1] for p in points]
    values = [p[2] for p in points]
    idx = minmax_indices(steps, values, buckets)
    return Series(
        [steps[i] for i in idx],
        [seconds[i] for i in idx],
        [values[i] for i in idx],
        steps,
        seconds,
        values,
        total=len(points),
        exact=exact,
    )


def series_from_buckets(bks: Sequence[Bucket], total: int) -> Series:
    """A series from a bucketed read: the min/max band as the line, means for smoothing."""
    steps, values = envelope([(b.step_lo, b.step_hi, b.min, b.max) for b in bks])
    seconds, _ = envelope([(b.t_lo, b.t_hi, b.min, b.max) for b in bks])
    return Series(
        steps,
        seconds,
        values,
        [(b.step_lo + b.step_hi) / 2 for b in bks],
        [(b.t_lo + b.t_hi) / 2 for b in bks],
        [b.mean for b in bks],
        total=total,
    )
