"""The demo's live runs: a detached process that logs two runs for a few minutes.

Started by `runtui.demo.build` in its own session with no terminal. It
starts its runs, says so on ``--ready-fd``, and waits for ``--go-fd`` to
close (the build is done: the user is about to look). Then every
`TICK_S` it logs the next steps of each run and appends their output
(progress-bar redraws, evaluation lines) to the runs' log files, so the TUI
has something to follow. It finishes both runs ``completed`` after
``--seconds`` and exits; SIGTERM ends them ``canceled``.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

from runtui.demo import runs
from runtui.demo.plan import RunPlan
from runtui.demo.projects import bert, distill
from runtui.store import connection, demo_writes, location

TICK_S = 0.5


class LiveRun:
    """One run fed step by step, ``per_tick`` training steps per tick."""

    def __init__(self, store: Path, plan: RunPlan, folders: runs.CodeFolders, ticks: int) -> None:
        self.plan = plan
        project = runs.project_of(plan)
        self.per_tick = math.ceil(plan.total_steps / ticks)
        self.series = project.series(plan)
        self.events = project.log_events(plan, self.series, bar_every=self.per_tick)
        self.run = runs.start(store, plan, folders.folder(plan))
        path = location.log_path(store, self.run.uuid)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in finish()
        self.done = -1
        self.advance(0)

    def advance(self, tick: int) -> None:
        upto = min(self.plan.total_steps, tick * self.per_tick)
        runs.log_points(self.run, self.series, self.done, upto)
        self.log.write(runs.text_between(self.events, self.done, upto))
        self.log.flush()
        self.done = upto

    def finish(self) -> None:
        self.run.finish("completed")
        self.log.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m runtui.demo.live")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--ready-fd", type=int, default=None)
    parser.add_argument("--go-fd", type=int, default=None)
    args = parser.parse_args(argv)

    ticks = max(1, round(args.seconds / TICK_S))
    plans = [bert.live_plan(args.seed, args.seconds), distill.live_plan(args.seed, args.seconds)]
    with tempfile.TemporaryDirectory(prefix="runtui-demo-code-") as tmp:
        folders = runs.CodeFolders(Path(tmp))
        live = [LiveRun(args.store, plan, folders, ticks) for plan in plans]
    conn = connection.connect(args.store)
    try:
        for one in live:
            context = runs.context(one.plan)
            connection.write_transaction(
                conn, lambda c, u=one.run.uuid, x=context: demo_writes.set_context(c, u, x)
            )
    finally:
        conn.close()
    if args.ready_fd is not None:
        os.write(args.ready_fd, b"ready\n")
        os.close(args.ready_fd)
    if args.go_fd is not None:
        while os.read(args.go_fd, 64):  # until the builder closes it (or dies)
            pass
        os.close(args.go_fd)
    start = time.monotonic()
    for tick in range(1, ticks + 1):
        time.sleep(max(0.0, start + tick * TICK_S - time.monotonic()))
        for one in live:
            one.advance(tick)
    for one in live:
        one.finish()


if __name__ == "__main__":
    main()
