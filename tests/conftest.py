"""Shared fixtures: every test gets its own store and never touches the user's."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees a real store, a user's cache, or an outer run via RUNTUI_RUN_ID."""
    monkeypatch.delenv("RUNTUI_RUN_ID", raising=False)
    monkeypatch.delenv("RUNTUI_STORE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(autouse=True)
def _no_animations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pilot key presses wait for animations to end (a tab switch: ~0.4 s): TUI tests skip them."""
    constants = sys.modules.get("textual.constants")
    if constants is not None:
        monkeypatch.setattr(constants, "TEXTUAL_ANIMATIONS", "none")


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty store folder, also set as RUNTUI_STORE for code under test."""
    path = tmp_path / "store"
    monkeypatch.setenv("RUNTUI_STORE", str(path))
    return path


@pytest.fixture
def subprocess_env(store_dir: Path) -> Iterator[dict[str, str]]:
    """Environment for a child Python process that logs into `store_dir`."""
    env = dict(os.environ)
    env["RUNTUI_STORE"] = str(store_dir)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    yield env


PYTHON = sys.executable
