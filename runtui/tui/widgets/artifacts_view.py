"""The Artifacts tab: files a run kept with ``run.log_artifact``.

Each artifact is stored once by content (``artifacts/<hash[:2]>/<hash>``);
the line under the table shows where the highlighted one lives, so it can
be copied or opened from a shell.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from runtui.services.units import human_size
from runtui.store.records import Artifact
from runtui.tui.render import relative_time, safe


class ArtifactsView(Vertical):
    """A table of artifacts and the stored path of the highlighted one."""

    DEFAULT_CSS = """
    ArtifactsView DataTable { height: 1fr; }
    ArtifactsView #artifact-path { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.paths: dict[str, Path] = {}

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_column("name", key="name")
        table.add_column("size", key="size")
        table.add_column("added", key="added")
        table.add_column("sha256", key="hash")
        yield table
        yield Static(id="artifact-path", markup=False)

    def show(self, artifacts: Sequence[Artifact], path_of: Callable[[Artifact], Path]) -> None:
        """Replace the rows; ``path_of`` gives an artifact's stored file."""
        table = self.query_one(DataTable)
        table.clear()
        self.paths = {}
        now = self.clock()
        for i, a in enumerate(artifacts):
            key = str(i)
            self.paths[key] = path_of(a)
            table.add_row(
                safe(a.name),
                Text(human_size(a.size), justify="right"),
                Text(relative_time(a.created_at, now)),
                Text(a.hash[:12], style="dim"),
                key=key,
            )
        if not artifacts:
            self.query_one("#artifact-path", Static).update(
                Text("no artifacts; keep files with run.log_artifact(path)")
            )

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        path = self.paths.get(event.row_key.value or "")
        if path is not None:
            self.query_one("#artifact-path", Static).update(safe(str(path)))
