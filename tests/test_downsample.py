"""Downsampling and smoothing of metric series, and the store's bucketed history reads."""

from __future__ import annotations

import math
import random
import time
import uuid
from pathlib import Path

import pytest

from runtui.services.downsample import (
    ema,
    envelope,
    minmax,
    minmax_indices,
    series_from_buckets,
    series_from_points,
)
from runtui.store import connection, history, writer

# -- minmax -------------------------------------------------------------


def test_short_series_is_kept_whole_without_non_finite_points() -> None:
    xs = [0, 1, 2, 3, 4]
    ys = [1.0, math.nan, 3.0, math.inf, -math.inf]
    assert minmax(xs, ys, 10) == ([0, 2], [1.0, 3.0])


def test_long_series_keeps_at_most_two_points_per_bucket_and_every_spike() -> None:
    rng = random.Random(1)
    n = 100_000
    xs = list(range(n))
    ys = [rng.random() for _ in range(n)]
    ys[12_345] = 50.0  # a spike a strided sample would likely miss
    ys[77_777] = -50.0
    out_x, out_y = minmax(xs, ys, 200)
    assert len(out_x) <= 400
    assert max(out_y) == 50.0 and min(out_y) == -50.0
    assert 12_345 in out_x and 77_777 in out_x
    assert out_x == sorted(out_x)  # drawing order stays the x order


def test_minmax_buckets_by_x_range_not_by_index() -> None:
    # 1000 dense points then one far away: the lone point gets its own bucket.
    xs = [*range(1000), 100_000]
    ys = [float(i % 7) for i in range(1000)] + [9.0]
    idx = minmax_indices(xs, ys, 10)
    assert idx[-1] == 1000
    assert len(idx) <= 20


def test_minmax_rejects_zero_buckets() -> None:
    with pytest.raises(ValueError):
        minmax([1.0], [1.0], 0)


def test_envelope_puts_the_nearer_extreme_first() -> None:
    xs, ys = envelope([(0, 9, 0.0, 10.0), (10, 19, 0.0, 10.0), (20, 29, 5.0, 5.0)])
    # first bucket: min then max; second starts at max (nearer to the previous 10.0)
    assert ys == [0.0, 10.0, 10.0, 0.0, 5.0]
    assert xs == [0, 9, 10, 19, 24.5]


# -- ema ----------------------------------------------------------------


def test_ema_weight_zero_is_identity() -> None:
    assert ema([1.0, 5.0, 2.0], 0.0) == [1.0, 5.0, 2.0]


def test_ema_is_debiased_so_it_starts_at_the_data() -> None:
    out = ema([10.0, 10.0, 10.0], 0.9)
    assert out == pytest.approx([10.0, 10.0, 10.0])
    # TensorBoard's formula by hand for the second point
    assert ema([0.0, 10.0], 0.6)[1] == pytest.approx((0.6 * 0.4 * 0.0 + 0.4 * 10.0) / (1 - 0.36))


def test_ema_smooths_noise_and_passes_non_finite_values_through() -> None:
    rng = random.Random(2)
    noisy = [1.0 + rng.uniform(-0.5, 0.5) for _ in range(2000)]
    smooth = ema(noisy, 0.95)
    spread = max(smooth[500:]) - min(smooth[500:])
    assert spread < 0.3 < max(noisy) - min(noisy)
    out = ema([1.0, math.nan, 3.0, math.inf], 0.5)
    assert math.isnan(out[1]) and out[3] == math.inf
    assert out[2] == pytest.approx((0.5 * 0.5 * 1.0 + 0.5 * 3.0) / 0.75)


@pytest.mark.parametrize("weight", [-0.1, 1.0])
def test_ema_rejects_weights_outside_the_range(weight: float) -> None:
    with pytest.raises(ValueError):
        ema([1.0], weight)


# -- series -------------------------------------------------------------


def test_series_from_points_keeps_time_aligned_with_steps() -> None:
    points = [(s, s * 0.5, float(s % 10)) for s in range(5000)]
    series = series_from_points(points, 50)
    assert len(series.steps) <= 100
    assert all(t == s * 0.5 for s, t in zip(series.steps, series.seconds, strict=True))
    assert series.total == 5000 and series.exact
    assert len(series.base_values) == 5000  # smoothing sees every point


def test_series_from_buckets_draws_the_band_and_smooths_the_means() -> None:
    bks = [
        history.Bucket(0, 9, 0.0, 0.9, 1.0, 3.0, 2.0, 10),
        history.Bucket(10, 19, 1.0, 1.9, 0.0, 1.0, 0.5, 10),
    ]
    series = series_from_buckets(bks, 20)
    assert series.values == [1.0, 3.0, 1.0, 0.0]
    assert series.base_values == [2.0, 0.5]
    assert series.base_steps == [4.5, 14.5]
    assert len(series.seconds) == len(series.steps)


# -- bucketed history reads ----------------------------------------------


def _store_with_points(folder: Path, values: list[float], steps: list[int]) -> tuple[int, int]:
    conn = connection.connect(folder, create=True)

    def write(c):  # type: ignore[no-untyped-def]
        rid = writer.insert_run(
            c, "e", {"uuid": str(uuid.uuid4()), "name": "r", "status": "completed",
                     "started_at": time.time()},
        )  # fmt: skip
        key = writer.intern_metric_keys(c, ["loss"])["loss"]
        column = writer.Column(steps, [s * 10 for s in steps], values)
        writer.write_points(c, rid, {key: column})
        return rid, key

    ids = connection.write_transaction(conn, write)
    conn.close()
    return ids


def test_buckets_give_exact_extremes_and_ignore_nan_and_inf(tmp_path: Path) -> None:
    n = 10_000
    values = [math.sin(i / 100) for i in range(n)]
    values[5000] = 7.0
    values[100] = math.nan
    values[200] = math.inf
    run_id, key = _store_with_points(tmp_path / "s", values, list(range(n)))
    conn = connection.connect(tmp_path / "s", readonly=True)
    bks = history.buckets(conn, run_id, key, 0, n - 1, 100)
    assert len(bks) == 100
    assert max(b.max for b in bks) == 7.0
    assert all(math.isfinite(b.max) for b in bks)
    assert sum(b.count for b in bks) == n - 2
    assert bks[0].step_lo == 0 and bks[-1].step_hi == n - 1
    assert bks[1].t_lo == pytest.approx(bks[1].step_lo * 10 / 1000)


def test_sample_seeks_evenly_spaced_points_even_with_sparse_steps(tmp_path: Path) -> None:
    steps = list(range(0, 100_000, 100))  # eval every 100 steps
    values = [float(s) for s in steps]
    run_id, key = _store_with_points(tmp_path / "s", values, steps)
    conn = connection.connect(tmp_path / "s", readonly=True)
    pts = history.sample(conn, run_id, key, 0, steps[-1], 50)
    assert 40 <= len(pts) <= 50
    assert pts[0][0] == 0 and pts[-1][0] == steps[-1]
    assert [p[0] for p in pts] == sorted({p[0] for p in pts})
    assert all(p[2] == p[0] for p in pts)
    assert history.read_points(conn, run_id, key)[-1] == (
        steps[-1],
        steps[-1] * 10 / 1000,
        values[-1],
    )
    assert history.key_id(conn, "nope") is None
