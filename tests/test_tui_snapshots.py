"""SVG snapshots of the main screen and the empty-store screen at a fixed size.

Deterministic: the store is written with fixed uuids and times, the app's
clock is pinned to `NOW`, and HOME points at the test folder so the store
path reads ``~/store``. Update after a deliberate change with
``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_main_data import NOW, build_store

from runtui.tui.app import RuntuiApp

SIZE = (130, 24)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_main_screen(snap_compare, home: Path) -> None:
    app = RuntuiApp(build_store(home / "store"), clock=lambda: NOW)
    assert snap_compare(app, terminal_size=SIZE)


def test_main_screen_marked_sorted_and_filter_error(snap_compare, home: Path) -> None:
    app = RuntuiApp(build_store(home / "store"), clock=lambda: NOW)
    keys = ["space", "j", "space", "l", "s", "slash", *"lr>=0.01 >"]
    assert snap_compare(app, press=keys, terminal_size=SIZE)


def test_empty_screen(snap_compare, home: Path) -> None:
    app = RuntuiApp(home / "store", clock=lambda: NOW)
    assert snap_compare(app, terminal_size=SIZE)
