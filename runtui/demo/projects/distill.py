"""distill-gpt2: a 6-layer student learning from GPT-2 medium, the newest experiment.

The story: v1 hard-codes the temperature; v2 reads it from config.yaml and
sweeps it against the loss mix ``alpha``; one sweep run was stopped by hand
(Ctrl-C); one ran with uncommitted edits to config.yaml and a typo in a key,
so it failed at once with a KeyError (diff its code against a good run).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from runtui.demo import curves
from runtui.demo.logtext import LogEvent, bar_events, traceback_text
from runtui.demo.plan import HOUR, RunPlan, Series, nearest

EXPERIMENT = "distill-gpt2"
PROJECT = "distill"
VERSIONS = {
    "v1": frozenset(),
    "v2": frozenset({"temperature", "temp_cfg"}),
    "v2-typo": frozenset({"temperature", "typo"}),
}
LOG_EVERY = 20
EVAL_EVERY = 250
TAGS = {"team": "nlp", "dataset": "openwebtext"}
_GREEN, _YELLOW, _RESET = "\x1b[32m", "\x1b[33m", "\x1b[0m"


def _plan(
    seed: int,
    version: str,
    name: str,
    *,
    temperature: float,
    alpha: float,
    ago_h: float,
    steps: int = 4000,
    outcome: str = "completed",
    tags: Mapping[str, str] | None = None,
    notes: str | None = None,
) -> RunPlan:
    params: dict[str, Any] = {
        "teacher": "gpt2-medium",
        "student_layers": 6,
        "lr": 6e-4,
        "batch_size": 16,
        "steps": steps,
        "eval_every": EVAL_EVERY,
        "alpha": alpha,
    }
    if version != "v2-typo":
        params["temperature"] = temperature
    stop = {"failed": 0, "canceled": 1840}.get(outcome, steps)
    return RunPlan(
        experiment=EXPERIMENT,
        project=PROJECT,
        version=version,
        name=name,
        params=params,
        tags={**TAGS, **(tags or {})},
        outcome=outcome,
        total_steps=steps,
        stop_step=stop,
        started_ago_s=ago_h * HOUR,
        duration_s=stop * 0.86 + 48,
        dirty=version == "v2-typo",
        notes=notes,
        seed=seed,
    )


def plans(seed: int) -> list[RunPlan]:
    p = [
        _plan(seed, "v1", "kd-a0.5", temperature=2.0, alpha=0.5, ago_h=50, tags={"baseline": ""}),
        _plan(seed, "v1", "kd-a0.9", temperature=2.0, alpha=0.9, ago_h=49.5),
    ]
    grid = [(t, a) for t in (1.0, 2.0, 4.0) for a in (0.5, 0.9)]
    for i, (t, a) in enumerate(grid):
        canceled = (t, a) == (1.0, 0.9)
        p.append(
            _plan(
                seed, "v2", f"kd-T{t:g}-a{a:g}", temperature=t, alpha=a, ago_h=30 - i * 0.05,
                outcome="canceled" if canceled else "completed", tags={"sweep": "temperature"},
                notes="Stopped: T=1 is clearly worse, no need to finish." if canceled else None,
            )
        )  # fmt: skip
    p.append(
        _plan(seed, "v2-typo", "kd-T4-long", temperature=4.0, alpha=0.5, ago_h=7, steps=8000,
              outcome="failed")
    )  # fmt: skip
    p.append(
        _plan(seed, "v2", "kd-T4-a0.5-long", temperature=4.0, alpha=0.5, ago_h=6.8, steps=8000,
              tags={"best": ""})
    )  # fmt: skip
    return p


def live_plan(seed: int, seconds: float) -> RunPlan:
    plan = _plan(seed, "v2", "kd-T4-a0.7", temperature=4.0, alpha=0.7, ago_h=0, outcome="live")
    return RunPlan(**{**plan.__dict__, "duration_s": seconds})


def _final_ppl(plan: RunPlan) -> float:
    p = plan.params
    t, a = p.get("temperature", 4.0), p["alpha"]
    ppl = 34.0 - 2.2 * math.log2(t) + 6.0 * (a - 0.6) ** 2 - 3.0 * (p["steps"] > 4000)
    return ppl * math.exp(plan.rng("quality").gauss(0, 0.01))


def series(plan: RunPlan) -> Series:
    p, total = plan.params, plan.total_steps
    schedule = curves.warmup_cosine(p["lr"], total, warmup=int(total * 0.05))
    rng = plan.rng("curves")
    steps = list(range(LOG_EVERY, total + 1, LOG_EVERY))
    prog = curves.progress(schedule, steps)
    final = math.log(_final_ppl(plan))
    t = p.get("temperature", 4.0)
    ce = curves.falling(rng, prog, start=10.4, floor=final - 0.12, speed=6.5, noise=0.05)
    kd = curves.falling(rng, prog, start=2.2 * t**0.6, floor=0.35 * t**0.6, speed=5.0, noise=0.06)
    a = p["alpha"]
    loss = [a * k + (1 - a) * c for k, c in zip(kd, ce, strict=True)]
    evals = list(range(EVAL_EVERY, total + 1, EVAL_EVERY))
    eprog = curves.progress(schedule, evals)
    val = curves.falling(rng, eprog, start=7.4, floor=final, speed=6.0, noise=0.01)
    return {
        "loss": (steps, loss),
        "kd_loss": (steps, kd),
        "ce_loss": (steps, ce),
        "lr": (steps, [schedule(s) for s in steps]),
        "val_loss": (evals, val),
        "val_ppl": (evals, [math.exp(v) for v in val]),
    }


def log_events(plan: RunPlan, series: Series, bar_every: int) -> list[LogEvent]:
    total = plan.total_steps
    events = [
        LogEvent(0, f"{_GREEN}✔{_RESET} teacher gpt2-medium loaded (354.8M parameters)\n"),
        LogEvent(0, f"{_GREEN}✔{_RESET} student: 6 layers, 81.9M parameters\n"),
        LogEvent(
            0,
            f"{_YELLOW}warning:{_RESET} data/train.bin is memory-mapped from a network "
            "filesystem; the first steps may be slow\n",
        ),
    ]
    every = min(bar_every, max(1, total // 50))
    postfix = [
        f"loss={nearest(series, 'loss', max(LOG_EVERY, n)):.3f}"
        for n in range(0, total + every, every)
    ]
    events += bar_events("", 0, total, every, plan.seconds_per_step, postfix)
    val_loss, val_ppl = series["val_loss"], series["val_ppl"]
    for step, loss, ppl in zip(val_loss[0], val_loss[1], val_ppl[1], strict=True):
        events.append(
            LogEvent(step, f"\r[step {step:>6}] val_loss {loss:.3f} | val_ppl {ppl:.1f}\n")
        )
    events.sort(key=lambda e: e.step)
    return events


def error(plan: RunPlan, files: Mapping[str, str], root: str) -> str | None:
    if plan.outcome == "canceled":
        return traceback_text(
            f"{root}/distill.py",
            files["distill.py"],
            [("<module>", "    main(sys.argv"), ("main", "teacher_logits = teacher(inputs)")],
            [],
            "KeyboardInterrupt",
        )
    if plan.outcome != "failed":
        return None
    return traceback_text(
        f"{root}/distill.py",
        files["distill.py"],
        [("<module>", "    main(sys.argv"), ("main", 'temperature = cfg["temperature"]')],
        [],
        "KeyError: 'temperature'",
    )


def command(plan: RunPlan) -> list[str]:
    return ["python", "distill.py", "config.yaml"]
