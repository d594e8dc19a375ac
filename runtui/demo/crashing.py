"""The demo's crashed run: a real process that trains for a while and is then killed.

Started by `runtui.demo.build` with ``--ready-fd``: it starts its run (with
its output captured, like any training script), prints and logs the first
43 % of its training, gives the background writer time to store the points,
writes the run's uuid on the ready pipe and waits to be killed with SIGKILL.
Nothing finishes the run: the store marks it ``crashed`` once it sees the
process is gone. If nobody kills it, it dies the same way after a minute.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from runtui.demo import runs
from runtui.demo.plan import cut
from runtui.demo.projects import bert
from runtui.tracking.flusher import FLUSH_INTERVAL_S

GIVE_UP_S = 60.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m runtui.demo.crashing")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ready-fd", type=int, required=True)
    args = parser.parse_args(argv)

    plan = bert.crashed_plan(args.seed)
    full = bert.series(plan)
    series = cut(full, plan.stop_step)
    events = bert.log_events(plan, full, bar_every=plan.total_steps)
    with tempfile.TemporaryDirectory(prefix="runtui-demo-code-") as tmp:
        folder = runs.CodeFolders(Path(tmp)).folder(plan)
        run = runs.start(args.store, plan, folder, capture=True)
    sys.stdout.write(runs.text_between(events, -1, plan.stop_step))
    sys.stdout.flush()
    runs.log_points(run, series, -1, plan.stop_step)
    time.sleep(FLUSH_INTERVAL_S * 3)  # the flusher thread stores the points meanwhile
    os.write(args.ready_fd, f"{run.uuid}\n".encode())
    os.close(args.ready_fd)
    time.sleep(GIVE_UP_S)
    os._exit(137)  # die without finishing the run, as a SIGKILL would


if __name__ == "__main__":
    main()
