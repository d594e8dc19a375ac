"""What the demo store holds, decided before anything is written.

A `RunPlan` says everything about one run (experiment, code version,
params, tags, how it ends, when it ran); a `Project` turns a plan into
metric curves, log text and, for runs that fail, the error. Plans depend on
nothing but the seed, so the same seed gives the same demo.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from runtui.demo.logtext import LogEvent

Series = dict[str, tuple[list[int], list[float]]]
"""Metric name → (steps, values), steps ascending."""

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(frozen=True)
class RunPlan:
    experiment: str
    project: str  # folder under assets/: the training code this run ran
    version: str  # the code version, a key of the project's VERSIONS
    name: str
    params: Mapping[str, Any]
    tags: Mapping[str, str]
    outcome: str  # completed | failed | canceled | crashed | live
    total_steps: int  # steps the whole training would take
    stop_step: int  # the step where the run ends (total_steps unless it died)
    started_ago_s: float = 0.0  # how long before the build the run started
    duration_s: float = 0.0  # wall-clock time from start to end (planned, for live runs)
    dirty: bool = False  # the code had uncommitted changes
    notes: str | None = None
    seed: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)  # project-specific knobs

    def rng(self, purpose: str) -> random.Random:
        """A random stream for one purpose of this run, independent of every other run."""
        return random.Random(f"{self.seed}/{self.experiment}/{self.name}/{purpose}")

    @property
    def seconds_per_step(self) -> float:
        return self.duration_s / max(1, self.stop_step)


class Project(Protocol):
    """A training project: its code versions and how its runs behave."""

    EXPERIMENT: str
    PROJECT: str
    VERSIONS: Mapping[str, frozenset[str]]

    def plans(self, seed: int) -> list[RunPlan]: ...

    def series(self, plan: RunPlan) -> Series: ...

    def log_events(self, plan: RunPlan, series: Series, bar_every: int) -> list[LogEvent]: ...

    def error(self, plan: RunPlan, files: Mapping[str, str], root: str) -> str | None: ...

    def command(self, plan: RunPlan) -> list[str]: ...


def cut(series: Series, last_step: int) -> Series:
    """The points of ``series`` up to and including ``last_step``."""
    out: Series = {}
    for name, (steps, values) in series.items():
        n = sum(1 for s in steps if s <= last_step)
        if n:
            out[name] = (steps[:n], values[:n])
    return out


def nearest(series: Series, name: str, step: int) -> float:
    """The value of metric ``name`` at the sampled step closest to ``step``."""
    steps, values = series[name]
    i = bisect.bisect_left(steps, step)
    if i == len(steps) or (i > 0 and step - steps[i - 1] <= steps[i] - step):
        i -= 1
    return values[max(0, i)]


def flags(params: Mapping[str, Any], skip: tuple[str, ...] = ()) -> list[str]:
    """Command-line flags for ``params``: ``--batch-size 32``, ``--fp16`` / ``--no-fp16``."""
    out: list[str] = []
    for key, value in params.items():
        if key in skip:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            out.append(flag if value else f"--no-{key.replace('_', '-')}")
        else:
            out.extend([flag, f"{value:g}" if isinstance(value, float) else str(value)])
    return out
