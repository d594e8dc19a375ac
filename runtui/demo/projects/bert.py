"""Finetune Bert-Large: bert-large-uncased on MNLI, the seed's running example.

The story in the runs: a baseline; a too-high learning rate that collapses
to the majority class; batch size 64 running out of GPU memory; warmup
(code v2) fixing the high learning rates; mixed precision and gradient
clipping (v3) making batch 64 fit, then seeds of the best config, one of
which was killed; layer-wise lr decay (v4) being tried live.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from runtui.demo import curves
from runtui.demo.logtext import LogEvent, bar_events, traceback_text
from runtui.demo.plan import DAY, HOUR, RunPlan, Series, flags, nearest

EXPERIMENT = "Finetune Bert-Large"
PROJECT = "bert"
VERSIONS = {
    "v1": frozenset(),
    "v2": frozenset({"warmup"}),
    "v3": frozenset({"warmup", "fp16", "clip"}),
    "v4": frozenset({"warmup", "fp16", "clip", "llrd"}),
}
TRAIN_SAMPLES = 40_000
EPOCHS = 3
LOG_EVERY = 25
EVAL_EVERY = 250
TAGS = {"team": "nlp", "dataset": "mnli", "model": "bert-large-uncased"}
_LIBS = "/opt/conda/lib/python3.11/site-packages"


def _params(version: str, lr: float, batch_size: int, **more: Any) -> dict[str, Any]:
    features = VERSIONS[version]
    params: dict[str, Any] = {
        "lr": lr,
        "batch_size": batch_size,
        "epochs": EPOCHS,
        "max_length": 128,
        "train_samples": TRAIN_SAMPLES,
        "eval_every": EVAL_EVERY,
    }
    if "warmup" in features:
        params["warmup_steps"] = more.pop("warmup_steps", 500)
    if "fp16" in features:
        params["fp16"] = True
    if "clip" in features:
        params["max_grad_norm"] = 1.0
    if "llrd" in features:
        params["layer_decay"] = more.pop("layer_decay", 0.9)
    params["seed"] = more.pop("train_seed", 42)
    return params


def _plan(
    seed: int,
    version: str,
    name: str,
    *,
    lr: float,
    batch_size: int = 32,
    ago_h: float = 0.0,
    outcome: str = "completed",
    tags: Mapping[str, str] | None = None,
    notes: str | None = None,
    **more: Any,
) -> RunPlan:
    params = _params(version, lr, batch_size, **more)
    total = EPOCHS * (TRAIN_SAMPLES // batch_size)
    stop = {"failed": 1, "crashed": int(total * 0.43)}.get(outcome, total)
    per_step = 1.9 * batch_size / 32 * (0.62 if params.get("fp16") else 1.0)
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
        duration_s=stop * per_step + (95 if outcome == "failed" else 140),
        notes=notes,
        seed=seed,
    )


def plans(seed: int) -> list[RunPlan]:
    day = DAY / HOUR
    p = []
    p.append(_plan(seed, "v1", "bert-baseline", lr=2e-5, ago_h=5 * day, tags={"baseline": ""}))
    p.append(_plan(seed, "v1", "bert-lr5e-5", lr=5e-5, ago_h=5 * day - 0.2))
    p.append(
        _plan(
            seed, "v1", "bert-lr1e-4", lr=1e-4, ago_h=5 * day - 0.3,
            notes="Collapsed to the majority class (val_acc 0.35): lr too high without warmup.",
        )
    )  # fmt: skip
    p.append(
        _plan(seed, "v1", "bert-bs64", lr=2e-5, batch_size=64, ago_h=4.6 * day, outcome="failed")
    )
    sweep = {"sweep": "lr-warmup"}
    for i, (lr, warmup) in enumerate(
        [(1e-5, 500), (2e-5, 500), (3e-5, 500), (5e-5, 500),
         (1e-5, 1000), (2e-5, 1000), (3e-5, 1000), (5e-5, 1000)]
    ):  # fmt: skip
        name = f"sweep-lr{lr:.0e}-w{warmup}".replace("e-0", "e-")
        ago = 3.5 * day - i * 0.05
        p.append(_plan(seed, "v2", name, lr=lr, warmup_steps=warmup, ago_h=ago, tags=sweep))
    for i, (lr, bs) in enumerate([(2e-5, 32), (3e-5, 32), (2e-5, 64), (3e-5, 64)]):
        p.append(
            _plan(
                seed, "v3", f"fp16-lr{lr:.0e}-bs{bs}".replace("e-0", "e-"), lr=lr,
                batch_size=bs, warmup_steps=1000, ago_h=2 * day - i * 0.1,
                tags={"best": ""} if (lr, bs) == (3e-5, 64) else None,
                notes="Best so far. Use as the reference for the next changes."
                if (lr, bs) == (3e-5, 64) else None,
            )
        )  # fmt: skip
    for i, s in enumerate((1, 2)):
        p.append(
            _plan(
                seed, "v3", f"fp16-best-seed{s}", lr=3e-5, batch_size=64, warmup_steps=1000,
                train_seed=s, ago_h=1.2 * day - i * 0.02, tags={"sweep": "seeds"},
            )
        )  # fmt: skip
    return p


def crashed_plan(seed: int) -> RunPlan:
    """The run whose process was killed (by the OOM killer, say) half way through epoch 2."""
    return _plan(
        seed, "v3", "fp16-best-seed3", lr=3e-5, batch_size=64, warmup_steps=1000, train_seed=3,
        ago_h=1.2 * DAY / HOUR - 0.04, outcome="crashed", tags={"sweep": "seeds"},
    )  # fmt: skip


def live_plan(seed: int, seconds: float) -> RunPlan:
    plan = _plan(
        seed, "v4", "llrd-0.9", lr=4e-5, batch_size=64, warmup_steps=1000,
        layer_decay=0.9, outcome="live", tags={"sweep": "llrd"},
    )  # fmt: skip
    return RunPlan(**{**plan.__dict__, "duration_s": seconds})


# -- curves -------------------------------------------------------------------------


def _quality(plan: RunPlan) -> tuple[float, bool]:
    """(final validation accuracy, collapsed?) from the params, as a sweep would find them."""
    p = plan.params
    warm = "warmup_steps" in p
    best = 3e-5 if warm else 2e-5
    miss = math.log10(p["lr"] / best) ** 2
    if not warm and p["lr"] >= 1e-4:
        return 0.354, True
    acc = 0.858 - 0.06 * miss + (0.006 if warm else 0.0) + (0.004 if "layer_decay" in p else 0.0)
    if not warm and p["lr"] > best:
        acc -= 0.012
    return acc + plan.rng("quality").gauss(0.0, 0.002), False


def series(plan: RunPlan) -> Series:
    p = plan.params
    total = plan.total_steps
    warmup = p.get("warmup_steps", 0)
    schedule = curves.warmup_linear(p["lr"], total, warmup) if warmup else curves.constant(p["lr"])
    acc, collapsed = _quality(plan)
    train_steps = list(range(LOG_EVERY, total + 1, LOG_EVERY))
    eval_steps = list(range(EVAL_EVERY, total + 1, EVAL_EVERY))
    out: Series = {}
    rng = plan.rng("curves")
    prog = curves.progress(schedule, train_steps)
    if collapsed:
        loss = [1.0986 + rng.gauss(0, 0.03) for _ in train_steps]
        val_loss = [1.0986 + rng.gauss(0, 0.004) for _ in eval_steps]
        val_acc = [0.354 + rng.gauss(0, 0.0015) for _ in eval_steps]
    else:
        epoch_len = total // EPOCHS
        floor = 0.52 - 0.9 * (acc - 0.80)
        loss = curves.falling(rng, prog, start=1.12, floor=floor, speed=4.2, noise=0.16)
        # memorisation: the training loss steps down at each new epoch
        loss = [
            v * (1 - 0.09 * ((s - 1) // epoch_len)) for s, v in zip(train_steps, loss, strict=True)
        ]
        vprog = curves.progress(schedule, eval_steps)
        val_loss = curves.falling(
            rng, vprog, start=1.0, floor=floor + 0.08, speed=4.6, noise=0.02,
            overfit=0.35, overfit_from=0.55,
        )  # fmt: skip
        val_acc = curves.rising(rng, vprog, start=0.36, top=acc, speed=5.0, noise=0.004)
    out["loss"] = (train_steps, loss)
    out["lr"] = (train_steps, [schedule(s) for s in train_steps])
    if "max_grad_norm" in p:
        norm = curves.falling(rng, prog, start=9.0, floor=1.6, speed=3.0, noise=0.3)
        out["grad_norm"] = (train_steps, norm)
    out["val_loss"] = (eval_steps, val_loss)
    out["val_acc"] = (eval_steps, val_acc)
    return out


# -- logs ---------------------------------------------------------------------------

_PREAMBLE = (
    "Some weights of BertForSequenceClassification were not initialized from the model "
    "checkpoint at bert-large-uncased and are newly initialized: "
    "['classifier.bias', 'classifier.weight']\n"
    "You should probably TRAIN this model on a down-stream task to be able to use it for "
    "predictions and inference.\n"
)


def log_events(plan: RunPlan, series: Series, bar_every: int) -> list[LogEvent]:
    p = plan.params
    events = [LogEvent(0, _PREAMBLE)]
    for total, rate in ((TRAIN_SAMPLES, 6391.2), (9815, 6102.7)):  # tokenising, before step 1
        frames = bar_events("Map", 0, total, total // 4, 1 / rate)
        events += [LogEvent(0, frame.text) for frame in frames]
    per_epoch = plan.total_steps // EPOCHS
    spi = plan.seconds_per_step
    evals = dict(zip(*series["val_loss"], strict=True))
    accs = dict(zip(*series["val_acc"], strict=True))
    for epoch in range(EPOCHS):
        first = epoch * per_epoch
        every = min(bar_every, max(1, per_epoch // 20))
        postfix = [
            f"loss={nearest(series, 'loss', first + n):.4f}"
            for n in range(0, per_epoch + every, every)
        ]
        desc = f"Epoch {epoch + 1}/{p['epochs']}"
        events += bar_events(desc, first, per_epoch, every, spi, postfix)
        for step in range(first + EVAL_EVERY, first + per_epoch + 1, EVAL_EVERY):
            if step in evals:
                line = f"step {step}: val_loss={evals[step]:.4f} val_acc={accs[step]:.4f}"
                events.append(LogEvent(step, f"\r{line}\n"))
    if plan.outcome in ("completed", "live"):
        events.append(LogEvent(plan.total_steps, "Saving model checkpoint to output/model\n"))
    events.sort(key=lambda e: e.step)  # stable: a step's bar frame, then its eval line
    return events


def error(plan: RunPlan, files: Mapping[str, str], root: str) -> str | None:
    if plan.outcome != "failed":
        return None
    return traceback_text(
        f"{root}/train.py",
        files["train.py"],
        [("<module>", "    main()"), ("main", "loss = model(**batch).loss")],
        [
            (f"{_LIBS}/torch/nn/modules/module.py", 1532, "_wrapped_call_impl",
             "return self._call_impl(*args, **kwargs)"),
            (f"{_LIBS}/transformers/models/bert/modeling_bert.py", 1564, "forward",
             "outputs = self.bert("),
            (f"{_LIBS}/transformers/models/bert/modeling_bert.py", 1013, "forward",
             "encoder_outputs = self.encoder("),
            (f"{_LIBS}/transformers/models/bert/modeling_bert.py", 364, "forward",
             "attention_probs = nn.functional.softmax(attention_scores, dim=-1)"),
        ],
        "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 "
        "has a total capacity of 23.65 GiB of which 1.12 GiB is free. Including non-PyTorch "
        "memory, this process has 22.52 GiB memory in use. Of the allocated memory 21.87 GiB "
        "is allocated by PyTorch, and 187.42 MiB is reserved by PyTorch but unallocated. If "
        "reserved but unallocated memory is large try setting "
        "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.",
    )  # fmt: skip


def command(plan: RunPlan) -> list[str]:
    defaults = {"epochs", "max_length", "train_samples", "eval_every", "max_grad_norm", "fp16"}
    return ["python", "train.py", *flags(plan.params, skip=tuple(defaults))]
