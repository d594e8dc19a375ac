"""Starting a demo run from its plan, the same way in every process that writes one.

The build, the process that gets killed and the live writer all start runs
through the public API (`runtui.start_run`, with ``snapshot=`` the code
folder of the run's version) and then give them the context of the
training script they stand for: its command line, folder, git state and a
small environment (with a secret shown redacted, as runtui stores it).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import runtui
from runtui.demo import sources
from runtui.demo.logtext import LogEvent
from runtui.demo.plan import RunPlan
from runtui.demo.projects import bert, cifar, distill
from runtui.tracking.context import REDACTED

PROJECTS: tuple[ModuleType, ...] = (cifar, bert, distill)
_BY_NAME = {p.PROJECT: p for p in PROJECTS}


def project_of(plan: RunPlan) -> ModuleType:
    return _BY_NAME[plan.project]


def project_root(plan: RunPlan) -> str:
    """Where the training code of the plan's project lives, as its command would show it."""
    return str(Path.home() / "projects" / plan.project)


class CodeFolders:
    """Each (project, version) written once into ``base``, for ``snapshot=`` and tracebacks."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._files: dict[tuple[str, str], dict[str, str]] = {}

    def folder(self, plan: RunPlan) -> Path:
        key = (plan.project, plan.version)
        path = self.base / f"{plan.project}-{plan.version}"
        if key not in self._files:
            features = project_of(plan).VERSIONS[plan.version]
            self._files[key] = sources.write_project(path, plan.project, features)
        return path

    def files(self, plan: RunPlan) -> dict[str, str]:
        self.folder(plan)
        return self._files[(plan.project, plan.version)]


def git_commit(plan: RunPlan) -> str:
    """A stable commit hash per (project, code version)."""
    version = plan.version.split("-")[0]  # an uncommitted variant sits on its version's commit
    return f"{random.Random(f'{plan.seed}/{plan.project}/{version}').getrandbits(160):040x}"


def context(plan: RunPlan) -> dict[str, Any]:
    """Run fields describing the training script's process, for `demo_writes`."""
    env = {
        "CUDA_VISIBLE_DEVICES": str(plan.rng("gpu").randrange(8)),
        "HF_HOME": str(Path.home() / ".cache" / "huggingface"),
        "HF_TOKEN": REDACTED,
        "OMP_NUM_THREADS": "8",
        "PYTHONHASHSEED": "0",
    }
    return {
        "command": project_of(plan).command(plan),
        "cwd": project_root(plan),
        "git_commit": git_commit(plan),
        "git_branch": "feat/llrd" if plan.version == "v4" else "main",
        "git_dirty": plan.dirty,
        "env": env,
        "notes": plan.notes,
    }


def start(store: Path, plan: RunPlan, code: Path, *, capture: bool = False) -> runtui.Run:
    """Start the run of ``plan`` with its code folder as the snapshot."""
    return runtui.start_run(
        plan.experiment,
        name=plan.name,
        params=dict(plan.params),
        tags=dict(plan.tags),
        snapshot=code,
        capture_output=capture,
        store=store,
    )


def log_points(run: runtui.Run, series: Mapping[str, tuple[list[int], list[float]]],
               after: int, upto: int) -> None:  # fmt: skip
    """Log the points of ``series`` with ``after < step <= upto``."""
    for name, (steps, values) in series.items():
        for step, value in zip(steps, values, strict=True):
            if after < step <= upto:
                run.log(name, value, step=step)


def text_between(events: list[LogEvent], after: int, upto: int) -> str:
    """The log text printed at steps ``after < step <= upto``."""
    return "".join(e.text for e in events if after < e.step <= upto)
