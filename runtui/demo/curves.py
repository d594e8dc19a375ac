"""Believable training curves: learning-rate schedules, falling losses, rising accuracies.

A curve is a list of floats indexed by the steps it is sampled at. Progress
through training is measured by the learning rate spent so far (the sum of
the schedule up to a step, over its total), so a warmup delays the fall of
the loss and a cosine schedule flattens its end, as they do in real runs.
Noise is autocorrelated (AR(1)) rather than white: real curves wander.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from itertools import accumulate

Schedule = Callable[[int], float]


def constant(lr: float) -> Schedule:
    return lambda step: lr


def warmup_linear(lr: float, total: int, warmup: int) -> Schedule:
    """Linear warmup to ``lr`` over ``warmup`` steps, then linear decay to 0 at ``total``."""

    def schedule(step: int) -> float:
        if step < warmup:
            return lr * (step + 1) / warmup
        return lr * max(0.0, (total - step) / max(1, total - warmup))

    return schedule


def warmup_cosine(lr: float, total: int, warmup: int = 0, floor: float = 0.0) -> Schedule:
    """Linear warmup, then a cosine from ``lr`` down to ``floor * lr``."""

    def schedule(step: int) -> float:
        if step < warmup:
            return lr * (step + 1) / warmup
        t = (step - warmup) / max(1, total - warmup)
        return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))

    return schedule


def step_decay(lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    return lambda step: lr * gamma ** sum(step >= m for m in milestones)


def progress(schedule: Schedule, steps: Sequence[int]) -> list[float]:
    """Fraction of the total learning rate spent by each of ``steps`` (0 → 1)."""
    spent = list(accumulate(schedule(s) for s in steps))
    total = spent[-1] if spent and spent[-1] > 0 else 1.0
    return [s / total for s in spent]


def wander(rng: random.Random, n: int, sd: float, keep: float = 0.8) -> list[float]:
    """AR(1) noise: each value keeps ``keep`` of the previous one plus a fresh N(0, sd)."""
    out, e = [], 0.0
    fresh = sd * math.sqrt(1 - keep * keep)
    for _ in range(n):
        e = keep * e + rng.gauss(0.0, fresh)
        out.append(e)
    return out


def falling(
    rng: random.Random,
    prog: Sequence[float],
    *,
    start: float,
    floor: float,
    speed: float,
    noise: float,
    overfit: float = 0.0,
    overfit_from: float = 0.5,
) -> list[float]:
    """A loss: exponential fall from ``start`` to ``floor``, multiplicative noise.

    ``overfit`` > 0 bends the curve back up after ``overfit_from`` of training
    (a validation loss whose model memorises the training set).
    """
    jitter = wander(rng, len(prog), noise)
    out = []
    for p, j in zip(prog, jitter, strict=True):
        value = floor + (start - floor) * math.exp(-speed * p)
        value += overfit * max(0.0, p - overfit_from) ** 2
        out.append(value * math.exp(j * (0.4 + 0.6 * (1 - p))))
    return out


def rising(
    rng: random.Random,
    prog: Sequence[float],
    *,
    start: float,
    top: float,
    speed: float,
    noise: float,
) -> list[float]:
    """An accuracy: saturating rise from ``start`` to ``top``, kept within [0, 1]."""
    jitter = wander(rng, len(prog), noise)
    return [
        min(1.0, max(0.0, top - (top - start) * math.exp(-speed * p) + j))
        for p, j in zip(prog, jitter, strict=True)
    ]


def diverge(values: Sequence[float], start: int, nan_at: int) -> list[float]:
    """The same curve until index ``start``, then exploding: inf just before ``nan_at``,
    NaN from ``nan_at`` on (what a too-high learning rate does to a loss)."""
    out = list(values)
    value = max(1.5, out[start - 1] if start else 1.5)
    for i in range(start, len(out)):
        if i >= nan_at:
            out[i] = math.nan
        elif i == nan_at - 1:
            out[i] = math.inf
        else:
            value = value * value + 1
            out[i] = value
    return out
