"""Which paths a snapshot leaves out.

One source of rules, chosen once per snapshot root:

* ``.runtuiignore`` at the root, when it exists (gitignore syntax, parsed by
  ``pathspec.GitIgnoreSpec``, which follows git's edge cases);
* otherwise the ``.gitignore`` files as git reads them: ``.git/info/exclude``
  and the root ``.gitignore`` apply everywhere, a nested ``sub/.gitignore``
  applies below ``sub/`` with its patterns relative to ``sub/``, and the
  deepest file that has an opinion on a path wins.

As in git, an ignored folder is never entered, so a negation cannot bring
back a file inside it (``build/`` then ``!build/keep.txt`` keeps nothing).

Always out, whatever the rules say: ``.git``, ``__pycache__``,
``node_modules``, ``.runtui`` (a store), and any folder holding a
``pyvenv.cfg`` (a virtual environment); the walker also skips the store
folder itself wherever it lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

RUNTUIIGNORE = ".runtuiignore"
GITIGNORE = ".gitignore"
ALWAYS_OUT = frozenset({".git", "__pycache__", "node_modules", ".runtui"})
VENV_MARKER = "pyvenv.cfg"


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _spec(lines: list[str]) -> GitIgnoreSpec | None:
    return GitIgnoreSpec.from_lines(lines) if any(line.strip() for line in lines) else None


@dataclass
class IgnoreRules:
    """The rules for one snapshot root. Paths are relative, ``/``-separated, dirs end in ``/``."""

    root: Path
    source: str  # ".runtuiignore", ".gitignore" or "none": shown by `runtui snapshot --dry-run`
    _specs: dict[str, GitIgnoreSpec] = field(default_factory=dict)  # folder prefix -> spec
    _nested: bool = False

    @classmethod
    def for_root(cls, root: Path) -> IgnoreRules:
        own = root / RUNTUIIGNORE
        if own.is_file():
            spec = _spec(_read_lines(own))
            return cls(root, RUNTUIIGNORE, {"": spec} if spec else {})
        # .git/info/exclude is weaker than .gitignore: the last matching pattern wins
        lines = _read_lines(root / ".git" / "info" / "exclude") + _read_lines(root / GITIGNORE)
        spec = _spec(lines)
        source = GITIGNORE if (root / GITIGNORE).is_file() else "none"
        return cls(root, source, {"": spec} if spec else {}, _nested=True)

    def enter(self, prefix: str, names: set[str]) -> None:
        """Called by the walker on each folder it enters (``prefix`` like ``"src/"``)."""
        if self._nested and prefix and GITIGNORE in names:
            spec = _spec(_read_lines(self.root / prefix / GITIGNORE))
            self.source = GITIGNORE
            if spec:
                self._specs[prefix] = spec

    def ignored(self, rel: str) -> bool:
        """Is ``rel`` (a file, or a folder ending in ``/``) left out by the rules?"""
        if not self._specs:
            return False
        prefix = rel.rstrip("/")
        while True:
            cut = prefix.rfind("/")
            prefix = prefix[: cut + 1] if cut >= 0 else ""
            spec = self._specs.get(prefix)
            if spec is not None:
                decided = spec.check_file(rel[len(prefix) :]).include
                if decided is not None:
                    return decided
            if not prefix:
                return False
            prefix = prefix[:-1]
