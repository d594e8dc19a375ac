"""Per-(run, metric) summary kept by the writer: count, extremes, last, downsample.

`SparkBuckets` is an incremental downsample with a fixed number of buckets:
points fill buckets of width ``w``; when all buckets are full, neighbours are
merged pairwise and ``w`` doubles. Any series, however long, is kept as at
most `MAX_BUCKETS` bucket means, updated in O(batch) time, so sparklines never
scan raw points.
"""

from __future__ import annotations

import functools
import json
import math
import operator
from dataclasses import dataclass, field

MAX_BUCKETS = 64


def _bucket_sum(values: list[float]) -> float:
    """Exact sum, or plain float addition where fsum refuses (+inf with -inf, overflow)."""
    try:
        return math.fsum(values)
    except (ValueError, OverflowError):
        return sum(values, 0.0)


@dataclass
class SparkBuckets:
    width: int = 1
    sums: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    filled: int = 0  # points placed into the last bucket (NaN included)

    def add(self, values: list[float]) -> None:
        """Add values (NaN counted for position, not for the mean).

        Whole new buckets are filled in one comprehension; the arithmetic
        (``0.0 + fsum(bucket)``, pairwise halving) is the same whichever path
        a value takes, so the result does not depend on how points were batched.
        """
        i, n = 0, len(values)
        clean = all(map(operator.eq, values, values))  # no NaN (NaN != NaN)
        while i < n:
            if not self.sums or self.filled >= self.width:
                if len(self.sums) == MAX_BUCKETS:
                    self._halve()
                    continue
                w = self.width
                whole = min(MAX_BUCKETS - len(self.sums), (n - i) // w)
                if whole:
                    ends = range(i + w, i + (whole + 1) * w, w)
                    if clean:
                        self.sums += [0.0 + _bucket_sum(values[j - w : j]) for j in ends]
                        self.counts += [w] * whole
                    else:
                        chunks = [[v for v in values[j - w : j] if v == v] for j in ends]
                        self.sums += [0.0 + _bucket_sum(c) if c else 0.0 for c in chunks]
                        self.counts += [len(c) for c in chunks]
                    self.filled = w
                    i += whole * w
                    continue
                self.sums.append(0.0)
                self.counts.append(0)
                self.filled = 0
            take = min(self.width - self.filled, n - i)
            chunk = values[i : i + take]
            if not clean:
                chunk = [v for v in chunk if v == v]
            self.sums[-1] += _bucket_sum(chunk) if chunk else 0.0
            self.counts[-1] += len(chunk)
            self.filled += take
            i += take

    def _halve(self) -> None:
        sums, counts = self.sums, self.counts
        self.sums = [sums[j] + sums[j + 1] for j in range(0, len(sums), 2)]
        self.counts = [counts[j] + counts[j + 1] for j in range(0, len(counts), 2)]
        self.filled = self.width * 2  # the merged last bucket is complete
        self.width *= 2

    def copy(self) -> SparkBuckets:
        return SparkBuckets(self.width, list(self.sums), list(self.counts), self.filled)

    def means(self) -> list[float]:
        return [s / c if c else math.nan for s, c in zip(self.sums, self.counts, strict=True)]

    def to_json(self) -> str:
        return json.dumps(
            {"w": self.width, "f": self.filled, "s": self.sums, "c": self.counts},
            allow_nan=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> SparkBuckets:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(width=data["w"], sums=data["s"], counts=data["c"], filled=data["f"])


@functools.lru_cache(maxsize=16384)
def spark_means(text: str | None) -> tuple[float, ...]:
    """The bucket means stored in a summary's ``spark`` column (NaN for empty buckets).

    Remembered: the runs table asks again for the same rows on every refresh.
    """
    return tuple(SparkBuckets.from_json(text).means())


@dataclass
class BatchSummary:
    """What one batch of points for one metric contributes to its summary."""

    count: int
    first_step: int
    last_step: int
    last: float
    last_t: int
    min: float | None
    max: float | None

    @classmethod
    def of(cls, steps: list[int], ts: list[int], values: list[float]) -> BatchSummary:
        clean = all(map(operator.eq, values, values))  # no NaN (NaN != NaN)
        finite = values if clean else [v for v in values if v == v]
        last_step = max(steps)
        # the last point logged at the highest step: a re-logged step replaces the earlier one
        last_index = len(steps) - 1 - steps[::-1].index(last_step)
        return cls(
            count=len(values),
            first_step=min(steps),
            last_step=last_step,
            last=values[last_index],
            last_t=ts[last_index],
            min=min(finite) if finite else None,
            max=max(finite) if finite else None,
        )
