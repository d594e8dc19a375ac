"""Plain dataclasses the store hands out: never database rows.

The TUI, the CLI and notebooks all read these; only `store/` knows the SQL
behind them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runtui.store.summary import spark_means

STATUSES = ("running", "completed", "failed", "canceled", "crashed")


@dataclass(frozen=True)
class Experiment:
    id: int
    name: str
    created_at: float
    run_count: int


@dataclass(slots=True)
class MetricSummary:
    """One metric of one run: ``last``/``min``/``max`` ignore nothing but NaN for min/max."""

    name: str
    last: float
    min: float
    max: float
    count: int
    first_step: int
    last_step: int
    last_time: float
    spark_state: str = field(default="", repr=False, compare=False)
    spark_loader: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    @property
    def spark(self) -> tuple[float, ...]:
        """Bucket means across the whole series, oldest first (NaN for an all-NaN bucket).

        Read and decoded on first use (``spark_loader`` reads it from the store
        when the record was listed without it): listing runs for their last
        values never pays for it.
        """
        if self.spark_loader is not None:
            self.spark_state, self.spark_loader = self.spark_loader(), None
        return spark_means(self.spark_state)


@dataclass(frozen=True)
class Artifact:
    name: str
    hash: str
    size: int
    created_at: float


@dataclass
class RunRecord:
    id: str  # short id
    uuid: str
    name: str
    experiment: str
    status: str
    started_at: float
    ended_at: float | None
    heartbeat_at: float | None = None
    exit_code: int | None = None
    error: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    summary: dict[str, MetricSummary] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    cwd: str | None = None
    host: str | None = None
    user: str | None = None
    pid: int | None = None
    python: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    _git_diff: str | None = field(default=None, repr=False, compare=False)
    parent_uuid: str | None = None
    notes: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    snapshot_id: int | None = None
    row_id: int = field(default=0, repr=False)
    # the store's reader, called with this record: a record holds its store, never a
    # closure over itself (a cycle would leave every listed record to the garbage collector)
    _history: Callable[[RunRecord, str], list[tuple[int, float, float]]] | None = field(
        default=None, repr=False, compare=False
    )
    # reads `git_diff` when first asked for: up to megabytes a run that listings never show
    _git_diff_reader: Callable[[], str | None] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def git_diff(self) -> str | None:
        """The uncommitted changes (``git diff HEAD``) when the run started; None if none."""
        if self._git_diff_reader is not None:
            self._git_diff, self._git_diff_reader = self._git_diff_reader(), None
        return self._git_diff

    @property
    def duration(self) -> float:
        """Seconds from start to end, or to now for a running run."""
        end = self.ended_at if self.ended_at is not None else time.time()
        return max(0.0, end - self.started_at)

    def history(self, name: str) -> list[tuple[int, float, float]]:
        """Every point of metric ``name``: (step, timestamp, value), in step order."""
        if self._history is None:
            raise RuntimeError("this run record is not attached to a store")
        return self._history(self, name)
