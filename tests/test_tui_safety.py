"""Hostile user text on the main screen: shown literally, never styled, never run, never raw.

Run names, experiment names, params, tags and metric names come from
training scripts. Markup in them must show as the characters typed (not
crash the app or bind a click to an action), and terminal escape sequences
must never reach the terminal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_main_data import NOW, Spec, build_store

from runtui.tui.app import RuntuiApp
from runtui.tui.screens.main import MainScreen
from runtui.tui.widgets.experiments import ExperimentList
from runtui.tui.widgets.runs_table import RunsTable

BOLD = "[bold]x[/]"
CLICK = "[@click=app.quit]CLICK[/]"
CLOSE = "loss [/] done"
ESCAPES = "evil\x1b]2;pwned\x07\x1b[2J\x1b[1;1H\x9b31mred\x1bZ"

HOSTILE = [
    Spec(CLICK, BOLD, "completed", 300, 60, {"lr": 0.1, CLOSE: BOLD}, {CLICK: [1.0, 0.5]}),
    Spec(BOLD, BOLD, "failed", 200, 60, {"lr": 0.2, CLOSE: ESCAPES}, {CLICK: [2.0, 1.0]}),
    Spec(ESCAPES, ESCAPES, "completed", 100, 60, {"lr": 0.3}, {CLOSE: [3.0]}),
    Spec(CLOSE, "plain", "completed", 50, 60, {"lr": 0.4, "note": "[red"}, {}),
]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return build_store(tmp_path / "store", HOSTILE)


def _table_text(app: RuntuiApp) -> str:
    table = app.screen.query_one(RunsTable)
    return "\n".join(table.render_line(y).text for y in range(len(HOSTILE) + 1))


async def test_hostile_names_render_literally(store: Path) -> None:
    app = RuntuiApp(store, clock=lambda: NOW)
    async with app.run_test(size=(200, 20)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        text = _table_text(app)
        for literal in (BOLD, CLICK, CLOSE, "[red"):
            assert literal in text
        prompts = [str(o.prompt) for o in app.screen.query_one(ExperimentList).options]
        assert any(BOLD in p for p in prompts)
        assert "evil]2;pwned" not in text  # the OSC sequence is gone, not half-shown
        assert "evilred" in text
        for control in ("\x1b", "\x9b", "\x07"):
            assert control not in text
            assert all(control not in p for p in prompts)


async def test_clicking_a_hostile_name_runs_no_action(store: Path) -> None:
    app = RuntuiApp(store, clock=lambda: NOW)
    async with app.run_test(size=(200, 20)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(RunsTable)
        row = next(i for i in range(len(HOSTILE)) if table.source.record(i).name == CLICK)
        name_x = table._offsets[1] + 2
        await pilot.click(RunsTable, offset=(name_x, row + 2))  # border, header
        await pilot.pause()
        assert app.is_running
        assert table.cursor == row


async def test_palette_finds_hostile_names(store: Path) -> None:
    app = RuntuiApp(store, clock=lambda: NOW)
    async with app.run_test(size=(200, 20)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.press(*"click")
        await pilot.pause(0.4)
        from textual.command import CommandList

        hits = app.screen.query_one(CommandList)
        shown = [str(hits.get_option_at_index(i).prompt) for i in range(hits.option_count)]
        assert any(CLICK in text for text in shown)


async def test_filtering_for_markup_is_literal(store: Path) -> None:
    app = RuntuiApp(store, clock=lambda: NOW)
    async with app.run_test(size=(200, 20)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *'name~"[bold]"', "enter")
        await pilot.pause()
        table = app.screen.query_one(RunsTable)
        assert [r.name for r in table.source.records(0, 10)] == [BOLD]
        assert f'filter name~"{BOLD[:6]}"' in str(app.screen.query_one("#view-status").render())


async def test_palette_shows_markup_in_experiment_names_literally(tmp_path: Path) -> None:
    store = build_store(
        tmp_path / "store",
        [
            Spec("one", CLOSE, "completed", 100, 60, {}, {}),
            Spec("two", "[red]odd[/]", "completed", 50, 60, {}, {}),
        ],
    )
    app = RuntuiApp(store, clock=lambda: NOW)
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause(0.4)
        from textual.command import CommandPalette

        assert app.is_running and isinstance(app.screen, CommandPalette)
        shown = app.export_screenshot()
        assert "loss [/] done" in shown.replace("&#160;", " ")
        assert "[red]odd[/]" in shown.replace("&#160;", " ")
