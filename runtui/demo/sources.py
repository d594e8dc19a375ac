"""The demo's training code, in several versions, written out for snapshots.

Each project under ``assets/`` is one small training repository whose files
are templates: a line starting ``[+name] `` exists only in versions with the
feature ``name``, a line starting ``[-name] `` only in versions without it;
other lines are in every version. So the code of two runs differs exactly
by the features added between them, and a snapshot diff reads like the
history of the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

TEMPLATE_SUFFIX = ".tmpl"
_MARK = re.compile(r"^\[([+-])([a-z_0-9]+)\] ?")


def render(template: str, features: Iterable[str]) -> str:
    """The template's text for a version with ``features``."""
    on = set(features)
    out = []
    for line in template.splitlines(keepends=True):
        mark = _MARK.match(line)
        if mark is None:
            out.append(line)
        elif (mark.group(1) == "+") == (mark.group(2) in on):
            out.append(line[mark.end() :])
    return "".join(out)


def project_files(project: str, features: Iterable[str]) -> dict[str, str]:
    """Relative path → text of every file of ``project`` in the version with ``features``."""
    features = frozenset(features)
    root = resources.files("runtui.demo") / "assets" / project
    files: dict[str, str] = {}

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            elif entry.name.endswith(TEMPLATE_SUFFIX):
                name = prefix + entry.name.removesuffix(TEMPLATE_SUFFIX)
                files[name] = render(entry.read_text(encoding="utf-8"), features)

    walk(root, "")
    return files


def write_project(folder: Path, project: str, features: Iterable[str]) -> dict[str, str]:
    """Write the version with ``features`` of ``project`` into ``folder``; return its files."""
    files = project_files(project, features)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return files
