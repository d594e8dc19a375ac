"""Run every ``benchmarks/bench_*.py`` and print their tables.

Usage: ``python -m benchmarks [--quick] [--only NAME ...]`` (or
``python benchmarks/run_all.py``). Each module runs in its own interpreter
(``python -m benchmarks.bench_x``), so one benchmark's imports and memory
never colour another's figures. The exit status is 1 if any bar was missed
and 2 if a benchmark failed to run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent


def discover() -> list[str]:
    """Module names of every benchmark, in alphabetical order."""
    return sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))


def run_one(name: str, quick: bool) -> tuple[int, float]:
    """Run one benchmark module, its output going straight to ours; (exit status, seconds)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    if quick:
        env["RUNTUI_BENCH_QUICK"] = "1"
    command = [sys.executable, "-m", f"benchmarks.{name}", *(["--quick"] if quick else [])]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env)
    return done.returncode, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run these (e.g. logging, or bench_logging)"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    names = discover()
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in args.only}
        unknown = wanted - set(names)
        if unknown:
            parser.error(
                f"no such benchmark: {', '.join(sorted(unknown))} (have {', '.join(names)})"
            )
        names = [n for n in names if n in wanted]
    outcomes = []
    for name in names:
        print(f"\n# {name}", flush=True)
        outcomes.append((name, *run_one(name, args.quick)))
    print("\n## summary\n")
    verdicts = {0: "all bars met", 1: "a bar was missed"}
    for name, code, seconds in outcomes:
        verdict = verdicts.get(code, f"failed to run (exit {code})")
        print(f"{name:<20} {verdict:<28} {seconds:6.1f} s")
    codes = {code for _, code, _ in outcomes}
    return 0 if codes <= {0} else 1 if codes <= {0, 1} else 2


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(REPO))
    raise SystemExit(main())
