"""cifar10-resnet18: the oldest experiment, with the seed's ``epoch=1, batch= 2000`` logs.

The story: a tutorial-style baseline (batch size 4, two epochs, 54 %);
a longer run without augmentation that overfits; code v2 adds augmentation,
one-cycle cosine schedule and a choice of optimizer, swept; v3 adds label
smoothing, dropout and a NaN check, which catches Adam at lr 0.05 blowing up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from runtui.demo import curves
from runtui.demo.logtext import LogEvent, bar_events, traceback_text
from runtui.demo.plan import DAY, HOUR, RunPlan, Series, flags, nearest

EXPERIMENT = "cifar10-resnet18"
PROJECT = "cifar10"
VERSIONS = {
    "v1": frozenset(),
    "v2": frozenset({"augment", "cosine", "optim"}),
    "v3": frozenset({"augment", "cosine", "optim", "smoothing", "nan_check", "dropout"}),
}
TRAIN_IMAGES = 50_000
LOG_EVERY = 50
TAGS = {"team": "vision", "dataset": "cifar10"}


def _plan(
    seed: int,
    version: str,
    name: str,
    *,
    lr: float,
    batch_size: int = 128,
    epochs: int = 30,
    optimizer: str = "sgd",
    weight_decay: float = 5e-4,
    ago_h: float,
    outcome: str = "completed",
    tags: Mapping[str, str] | None = None,
    notes: str | None = None,
    dirty: bool = False,
    **more: Any,
) -> RunPlan:
    features = VERSIONS[version]
    params: dict[str, Any] = {"lr": lr, "batch_size": batch_size, "epochs": epochs}
    if "optim" in features:
        params["optimizer"] = optimizer
    params["momentum"] = 0.9
    params["weight_decay"] = weight_decay
    if "augment" in features:
        params["augment"] = more.get("augment", True)
    if "smoothing" in features:
        params["label_smoothing"] = 0.1
    per_epoch = math.ceil(TRAIN_IMAGES / batch_size)
    total = epochs * per_epoch
    stop = total
    if outcome == "failed":  # the NaN check fires in epoch 2
        stop = (per_epoch // LOG_EVERY + 3) * LOG_EVERY
    per_step = 0.058 if batch_size <= 32 else 0.13 * batch_size / 128
    return RunPlan(
        experiment=EXPERIMENT,
        project=PROJECT,
        version=version,
        name=name,
        params=params,
        tags={**TAGS, **(tags or {})},
        outcome=outcome,
        total_steps=total,
        stop_step=stop,
        started_ago_s=ago_h * HOUR,
        duration_s=stop * per_step + 25,
        dirty=dirty,
        notes=notes,
        seed=seed,
        extra={"per_epoch": per_epoch},
    )


def plans(seed: int) -> list[RunPlan]:
    day = DAY / HOUR
    p = [
        _plan(seed, "v1", "tutorial-baseline", lr=1e-3, batch_size=4, epochs=2, ago_h=9 * day,
              tags={"baseline": ""}),
        _plan(seed, "v1", "bs32-10ep", lr=1e-2, batch_size=32, epochs=10, ago_h=8.8 * day,
              notes="Overfits after epoch 5 (val_loss goes back up): needs augmentation."),
    ]  # fmt: skip
    sweep = [
        ("sgd", 0.05, 5e-4), ("sgd", 0.1, 5e-4), ("sgd", 0.2, 5e-4), ("adam", 1e-3, 5e-4),
        ("adam", 3e-4, 5e-4), ("adamw", 1e-3, 0.05), ("adamw", 3e-4, 0.05),
    ]  # fmt: skip
    for i, (opt, lr, wd) in enumerate(sweep):
        p.append(
            _plan(seed, "v2", f"{opt}-lr{lr:g}", lr=lr, optimizer=opt, weight_decay=wd,
                  ago_h=7 * day - i * 0.1, tags={"sweep": "optimizer"})
        )  # fmt: skip
    p.append(
        _plan(seed, "v2", "sgd-lr0.1-noaug", lr=0.1, augment=False, ago_h=6.9 * day,
              tags={"sweep": "optimizer"})
    )  # fmt: skip
    p += [
        _plan(seed, "v3", "smooth-sgd-lr0.1", lr=0.1, ago_h=6 * day, tags={"best": ""},
              notes="Best: 95 % with label smoothing + dropout."),
        _plan(seed, "v3", "smooth-sgd-60ep", lr=0.1, epochs=60, ago_h=5.9 * day, dirty=True),
        _plan(seed, "v3", "smooth-adam-lr0.05", lr=0.05, optimizer="adam", ago_h=5.95 * day,
              outcome="failed"),
    ]  # fmt: skip
    return p


def _final_acc(plan: RunPlan) -> float:
    p = plan.params
    if p["batch_size"] == 4:
        return 0.54
    if "optimizer" not in p:
        return 0.71
    opt = p["optimizer"]
    best = {"sgd": 0.1, "adam": 1e-3, "adamw": 1e-3}[opt]
    acc = {"sgd": 0.944, "adam": 0.925, "adamw": 0.934}[opt]
    acc -= 0.03 * math.log2(p["lr"] / best) ** 2
    if not p.get("augment", True):
        acc -= 0.07
    if "label_smoothing" in p:
        acc += 0.007 + 0.004 * (p["epochs"] > 30)
    return acc + plan.rng("quality").gauss(0, 0.002)


def _schedule(plan: RunPlan) -> curves.Schedule:
    p, total = plan.params, plan.total_steps
    if "optimizer" in p:
        return curves.warmup_cosine(p["lr"], total, warmup=int(total * 0.15))
    return curves.step_decay(p["lr"], [total // 2, total * 3 // 4])


def series(plan: RunPlan) -> Series:
    p, total = plan.params, plan.total_steps
    per_epoch = plan.extra["per_epoch"]
    schedule = _schedule(plan)
    acc = _final_acc(plan)
    rng = plan.rng("curves")
    steps = list(range(LOG_EVERY, total + 1, LOG_EVERY))
    prog = curves.progress(schedule, steps)
    floor = max(0.02, (1 - acc) * 1.1 - 0.03)
    augment = p.get("augment", False)
    lr_now = [schedule(s) / p["lr"] for s in steps]
    tutorial = p["batch_size"] == 4  # the small, slow-learning setup of the seed's logs
    loss = curves.falling(
        rng, prog, start=2.35, floor=0.95 if tutorial else floor, speed=2.3 if tutorial else 5.0,
        noise=0.08,
    )  # fmt: skip
    loss = [v + 0.08 * r * (1 - q) for v, r, q in zip(loss, lr_now, prog, strict=True)]
    epochs = list(range(per_epoch, total + 1, per_epoch))
    eprog = curves.progress(schedule, epochs)
    overfit = 0.0 if augment else 2.2
    val_loss = curves.falling(
        rng, eprog, start=1.9, floor=floor + 0.12 + 0.15 * (1 - acc), speed=5.5, noise=0.03,
        overfit=overfit, overfit_from=0.45,
    )  # fmt: skip
    val_acc = curves.rising(rng, eprog, start=0.35, top=acc, speed=5.0, noise=0.006)
    if plan.outcome == "failed":
        nan_at = steps.index(plan.stop_step)
        loss = curves.diverge(loss, nan_at - 6, nan_at)
    return {
        "loss": (steps, loss),
        "lr": (steps, [schedule(s) for s in steps]),
        "val_loss": (epochs, val_loss),
        "val_acc": (epochs, val_acc),
    }


def log_events(plan: RunPlan, series: Series, bar_every: int) -> list[LogEvent]:
    per_epoch = plan.extra["per_epoch"]
    print_every = max(1, 8000 // plan.params["batch_size"])
    events = [LogEvent(0, "Files already downloaded and verified\n" * 2)]
    spi = plan.seconds_per_step
    val_acc = series["val_acc"][1]
    for epoch in range(plan.params["epochs"]):
        first = epoch * per_epoch
        every = min(bar_every, max(1, per_epoch // 10))
        events += bar_events(f"epoch {epoch + 1}", first, per_epoch, every, spi)
        for batch in range(print_every, per_epoch + 1, print_every):
            step = first + batch
            loss = nearest(series, "loss", step)
            text = f"epoch={epoch + 1}, batch={batch:5d}: loss {loss:.2f}"
            events.append(LogEvent(step, f"\r{text}\n"))
    end = plan.total_steps
    events.append(LogEvent(end, "Finished Training\n"))
    events.append(
        LogEvent(
            end, f"Accuracy of the network on the 10000 test images: {100 * val_acc[-1]:.0f} %\n"
        )
    )
    events.sort(key=lambda e: e.step)
    return events


def error(plan: RunPlan, files: Mapping[str, str], root: str) -> str | None:
    if plan.outcome != "failed":
        return None
    per_epoch = plan.extra["per_epoch"]
    return traceback_text(
        f"{root}/train.py",
        files["train.py"],
        [
            ("<module>", "    main()"),
            ("main", "step = train_epoch("),
            ("train_epoch", "raise FloatingPointError("),
        ],
        [],
        f"FloatingPointError: loss is nan at epoch 2, batch {plan.stop_step - per_epoch}",
    )


def command(plan: RunPlan) -> list[str]:
    return ["python", "train.py", *flags(plan.params, skip=("momentum",))]
