"""Shared helpers for the benchmarks: rows and tables, timing, fresh subprocesses.

Every figure is printed beside a baseline doing the same work measured in the
same run (raw SQLite, or a small store), because absolute times on a shared
machine drift by tens of percent while ratios hold.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PYCACHE = Path(tempfile.gettempdir()) / "runtui-bench-pycache"

# Printed by a child process as its last stdout line; see `run_python`.
RESULT_PREFIX = "BENCH-RESULT "

# Measures a process's peak resident set size in bytes (Linux reports KiB, macOS bytes).
PEAK_RSS_SNIPPET = """
def _peak_rss():
    import resource, sys
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
"""


@dataclass
class Row:
    """One line of a benchmark table.

    ``value`` and ``baseline`` are in ``unit``; ``ok`` is None when the
    measure has no bar (shown as ``-``).
    """

    measure: str
    value: float | None
    unit: str = ""
    baseline: float | None = None
    bar: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


def fmt(value: float | None, unit: str = "") -> str:
    """A number with 3 significant figures (thousands grouped), then its unit."""
    if value is None:
        return "-"
    if isinstance(value, float) and value != value:
        return "nan"
    magnitude = abs(value)
    if magnitude >= 100 or (float(value).is_integer() and magnitude >= 1):
        text = f"{value:,.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".rstrip()


def print_table(title: str, rows: list[Row], baseline: str = "raw sqlite") -> None:
    """Print ``measure | runtui | <baseline> | ratio | bar | pass?`` as an aligned table."""
    header = ["measure", "runtui", baseline, "ratio", "bar", "pass?"]
    body = [
        [
            row.measure,
            fmt(row.value, row.unit),
            fmt(row.baseline, row.unit),
            "-" if row.ratio is None else f"{row.ratio:.2f}x",
            row.bar or "-",
            {True: "yes", False: "NO", None: "-"}[row.ok],
        ]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    right = {1, 2, 3}

    def line(cells: list[str]) -> str:
        return " | ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(f"\n## {title}\n")
    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for cells in body:
        print(line(cells))
    sys.stdout.flush()


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_python(
    code: str, *, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> dict:
    """Run ``code`` in a fresh interpreter and return the JSON it prints.

    The child reports by printing ``RESULT_PREFIX + json.dumps(result)`` as
    one line; anything else it prints is ignored. `PEAK_RSS_SNIPPET` is
    prepended so the child can call ``_peak_rss()``.
    """
    full_env = {**os.environ, **(env or {})}
    source = os.environ.get("RUNTUI_BENCH_SOURCE", "")  # another checkout's runtui, to compare
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (source, str(REPO), full_env.get("PYTHONPATH", "")) if p
    )
    # Import times as an installed package has them: with bytecode cached (pip
    # compiles it at install), kept outside the checkout.
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)
    full_env.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SNIPPET + code],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for text in reversed(done.stdout.splitlines()):
        if text.startswith(RESULT_PREFIX):
            return json.loads(text[len(RESULT_PREFIX) :])
    raise RuntimeError(f"benchmark child failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


@contextlib.contextmanager
def temp_dir(prefix: str = "runtui-bench-") -> Iterator[Path]:
    """A scratch folder outside any git repository, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _load() -> str:
    """The 1-minute load average: other work on the machine skews absolute times."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def main(run: Callable[[bool], list[Row]], title: str, baseline: str = "raw sqlite") -> int:
    """Entry point for ``python -m benchmarks.bench_x [--quick]``.

    Exit status: 0 when every bar passed, 1 when one was missed.
    """
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("RUNTUI_BENCH_QUICK") == "1"
    load_before = _load()
    rows = run(quick)
    print_table(title + (" (--quick sizes)" if quick else ""), rows, baseline)
    print(f"\n(load average {load_before} before, {_load()} after, on {os.cpu_count()} CPUs)")
    return 1 if any(row.ok is False for row in rows) else 0
