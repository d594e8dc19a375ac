"""The compare screen's Code tab with more than fits: many changed files, a long diff."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from tui_helpers import shown_text, until

from runtui.snapshot.capture import store_tree
from runtui.snapshot.walk import walk
from runtui.store import connection, writer
from runtui.tui.screens.compare import CompareScreen
from runtui.tui.widgets.compare_code import CompareCode

FILES = 60  # the list shows about 30 at this size
LONG = 2000  # lines of the file rewritten between the runs
SIZE = (120, 36)
UUIDS = ["00000001-0000-4000-8000-000000000001", "00000002-0000-4000-8000-000000000002"]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Two runs: ``FILES`` modules each changed in one line, and ``long.py`` rewritten."""
    code, store = tmp_path / "code", tmp_path / "store"
    code.mkdir()

    def write(version: int) -> None:
        for i in range(FILES):
            (code / f"mod{i:02}.py").write_text(f"import os\n\nVALUE = {version}\n")
        lines = (f"line_{n} = {version}\n" for n in range(LONG))
        (code / "long.py").write_text("".join(lines))

    conn = connection.connect(store, create=True)
    write(1)
    first = store_tree(conn, walk(code)).snapshot_id
    write(2)
    second = store_tree(conn, walk(code)).snapshot_id

    def insert(c) -> None:  # type: ignore[no-untyped-def]
        for i, (uuid, snapshot) in enumerate(zip(UUIDS, (first, second), strict=True)):
            fields = {"uuid": uuid, "name": f"run-{i}", "status": "completed"}
            fields |= {"started_at": 1_700_000_000.0 + i, "snapshot_id": snapshot}
            writer.insert_run(c, "code", fields)

    connection.write_transaction(conn, insert)
    conn.close()
    return store


async def test_many_files_and_a_long_diff_scroll(store: Path) -> None:
    app: App[None] = App()
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CompareScreen(store, UUIDS))
        await pilot.pause()
        await pilot.press("3")
        code = app.screen.query_one(CompareCode)
        await until(pilot, lambda: code.shown == "long.py")
        files, view = code.files, code.diff_view
        assert files.row_count == FILES + 1
        assert "long.py" in shown_text(files) and "mod59.py" not in shown_text(files)
        assert "-line_0 = 1" in shown_text(view) and f"+line_{LONG - 1} = 2" not in shown_text(view)

        await pilot.press("G")  # the last file: the list scrolls to it, its diff is shown
        await until(pilot, lambda: code.shown == "mod59.py")
        listed = shown_text(files).splitlines()
        assert "mod59.py" in listed[-1] and "long.py" not in shown_text(files)
        assert "-VALUE = 1" in shown_text(view) and "+VALUE = 2" in shown_text(view)
        await pilot.press("g")
        await until(pilot, lambda: code.shown == "long.py")
        assert "long.py" in shown_text(files).splitlines()[1]  # under the header

        view.focus()
        await pilot.press("end")  # the diff scrolls to its last line
        await pilot.pause()
        assert f"+line_{LONG - 1} = 2" in shown_text(view)
        assert "-line_0 = 1" not in shown_text(view)
        await pilot.press("s")  # side by side keeps to the file, from the top
        await pilot.pause()
        assert view.side_by_side and "-line_0 = 1" in shown_text(view)
        assert "+line_0 = 2" in shown_text(view)

        await pilot.click("#cmp-files", offset=(5, 3))  # the third file
        await until(pilot, lambda: code.shown == "mod01.py")
        assert files.has_focus
        await pilot.press("k")
        await until(pilot, lambda: code.shown == "mod00.py")


async def test_a_file_is_shown_plain_then_highlighted(store: Path) -> None:
    app: App[None] = App()
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CompareScreen(store, UUIDS))
        await pilot.pause()
        await pilot.press("3", "]")  # the second file is read and highlighted on demand
        code = app.screen.query_one(CompareCode)
        await until(pilot, lambda: code.shown == "mod00.py")
        view = code.diff_view
        await until(pilot, lambda: view.diff is not None and view.diff.highlighted)
        await pilot.pause()
        line = next(
            view.render_line(y)
            for y in range(view.size.height)
            if "import" in view.render_line(y).text
        )
        keyword = next(segment for segment in line if segment.text == "import")
        assert keyword.style is not None and keyword.style.color is not None
