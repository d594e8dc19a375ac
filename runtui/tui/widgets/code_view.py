"""The Code tab: the run's code snapshot as a file tree and a read-only viewer.

The file list and each file's content are read in thread workers through
`runtui.store.snapshots` (the only code that knows the snapshot tables).
Stored paths are shown, never used to touch the disk. Text is decoded as
UTF-8 (undecodable bytes replaced) and stripped of escape sequences before
it reaches the `TextArea`; binary files (a NUL byte early on) are named,
not dumped, and very large files are cut at `MAX_VIEW_BYTES`.

Highlighting comes from the `TextArea` when the ``textual[syntax]`` extra
(tree-sitter) is installed; without it the code is shown plain. A run's
uncommitted git changes, when recorded, appear as a first entry.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TextArea, Tree

from runtui.errors import RuntuiError
from runtui.services.textsafe import plain
from runtui.services.units import human_size, short_path
from runtui.store import snapshots
from runtui.store.reader import open_store
from runtui.store.snapshots import SnapshotFile
from runtui.tui.widgets.vim_tree import VimTree

MAX_VIEW_BYTES = 2 * 1024 * 1024
GIT_DIFF = "git diff"

LANGUAGES = {
    ".py": "python", ".pyi": "python", ".json": "json", ".toml": "toml", ".yaml": "yaml",
    ".yml": "yaml", ".md": "markdown", ".sh": "bash", ".bash": "bash", ".js": "javascript",
    ".rs": "rust", ".go": "go", ".html": "html", ".css": "css", ".sql": "sql", ".xml": "xml",
    ".java": "java",
}  # fmt: skip


def language_for(path: str) -> str | None:
    """The TextArea language for a file name, or None for plain text."""
    return LANGUAGES.get(PurePosixPath(path).suffix.lower())


def viewable_text(data: bytes) -> str | None:
    """``data`` as safe text for the viewer, or None when it looks binary."""
    if b"\x00" in data[:8192]:
        return None
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    return "\n".join(plain(line) for line in text.split("\n"))


def build_tree(root: Any, files: Sequence[SnapshotFile]) -> int:
    """Add ``files`` under ``root`` as nested folders; return the number of files added."""
    folders: dict[str, Any] = {"": root}
    for f in files:
        parts = f.path.split("/")
        parent_key = ""
        for part in parts[:-1]:
            key = f"{parent_key}/{part}"
            if key not in folders:
                folders[key] = folders[parent_key].add(Text(plain(part) + "/"), expand=False)
            parent_key = key
        label = Text(plain(parts[-1]))
        if f.link is not None:
            label.append(f" → {plain(f.link)}", style="dim")
        else:
            label.append(f"  {human_size(f.size)}", style="dim")
        folders[parent_key].add_leaf(label, data=f)
    return len(files)


def _first_file(root: Any) -> Any:
    """The node to show first: the first Python file at the top level, else the first file."""
    leaves = [n for n in root.children if isinstance(n.data, SnapshotFile)]
    python = [n for n in leaves if n.data.path.endswith(".py")]
    return (python or leaves or [None])[0]


class CodeView(Horizontal):
    """File tree on the left, the selected file on the right."""

    DEFAULT_CSS = """
    CodeView Tree { width: 40; max-width: 45%; border-right: solid $primary-background; }
    CodeView #code-right { width: 1fr; }
    CodeView #code-path { height: 1; padding: 0 1; color: $text-muted; }
    CodeView TextArea { height: 1fr; border: none; }
    """

    def __init__(
        self, store_path: Path, snapshot_id: int | None, git_diff: str | None,
        *, id: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(id=id)
        self.store_path = store_path
        self.snapshot_id = snapshot_id
        self.git_diff = git_diff
        self.loaded = False

    def compose(self) -> ComposeResult:
        tree: VimTree[SnapshotFile | str] = VimTree(Text("code"), id="code-tree")
        tree.show_root = False
        yield tree
        with Vertical(id="code-right"):
            yield Static(id="code-path", markup=False)
            yield TextArea.code_editor("", read_only=True, id="code-text")

    def load(self) -> None:
        """Read the snapshot's file list (once) in a thread worker."""
        if self.loaded:
            return
        self.loaded = True
        self._set_path(Text("reading the snapshot…"))
        self._read_files()

    @work(thread=True, exclusive=True, group="code-files")
    def _read_files(self) -> None:
        files: list[SnapshotFile] = []
        root = ""
        if self.snapshot_id is not None:
            try:
                with open_store(self.store_path, readonly=True) as store:
                    info = snapshots.snapshot_info(store.conn, self.snapshot_id)
                    if info is not None:
                        files = snapshots.snapshot_files(store.conn, self.snapshot_id)
                        root = info.root
            except (RuntuiError, sqlite3.Error) as exc:
                self.app.call_from_thread(self._set_path, Text(f"cannot read the snapshot: {exc}"))
                return
        self.app.call_from_thread(self._show_files, files, root)

    def _show_files(self, files: list[SnapshotFile], root: str) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        if self.git_diff:
            tree.root.add_leaf(
                Text("uncommitted changes (git diff)", style="italic"), data=GIT_DIFF
            )
        build_tree(tree.root, files)
        tree.root.expand()
        tree.focus()
        first = _first_file(tree.root)
        if first is not None:  # open a file straight away: an empty viewer says nothing
            tree.move_cursor(first)
            tree.select_node(first)
        if files:
            total = human_size(sum(f.size for f in files))
            self._set_path(
                Text(f"{len(files):,} files, {total}, from {plain(short_path(Path(root)))}")
            )
        elif self.git_diff:
            self._set_path(Text("no code snapshot; the uncommitted git changes were kept"))
        else:
            self._set_path(
                Text("no code snapshot for this run (it was started with snapshot=False)")
            )

    @on(Tree.NodeSelected, "#code-tree")
    def _selected(self, event: Tree.NodeSelected[SnapshotFile | str]) -> None:
        data = event.node.data
        if data == GIT_DIFF and self.git_diff:
            self._show_text(GIT_DIFF, viewable_text(self.git_diff.encode()), None)
        elif isinstance(data, SnapshotFile):
            if data.link is not None:
                self._set_path(Text(f"{plain(data.path)} → {plain(data.link)} (symlink)"))
            elif data.hash is not None:
                self._set_path(Text(f"{plain(data.path)} · reading…"))
                self._read_file(data)

    @work(thread=True, exclusive=True, group="code-file")
    def _read_file(self, f: SnapshotFile) -> None:
        assert f.hash is not None
        try:
            with open_store(self.store_path, readonly=True) as store:
                blob = snapshots.read_blob(store.conn, f.hash)
            data = None if blob is None else zlib.decompress(blob)
        except (RuntuiError, sqlite3.Error, zlib.error) as exc:
            message = Text(f"{plain(f.path)} · cannot read: {plain(str(exc))}")
            self.app.call_from_thread(self._set_path, message)
            return
        if data is None:
            self.app.call_from_thread(self._set_path, Text(f"{plain(f.path)} · content missing"))
            return
        cut = len(data) > MAX_VIEW_BYTES
        text = viewable_text(data[:MAX_VIEW_BYTES])
        self.app.call_from_thread(self._show_text, f.path, text, len(data) if cut else None)

    def _show_text(self, path: str, text: str | None, cut_from: int | None) -> None:
        area = self.query_one(TextArea)
        label = Text(plain(path))
        if text is None:
            label.append(" · binary file, not shown", style="dim")
            area.load_text("")
        else:
            area.language = None
            area.load_text(text)
            area.language = language_for(path)
            if cut_from is not None:
                label.append(
                    f" · first {human_size(MAX_VIEW_BYTES)} of {human_size(cut_from)}", style="dim"
                )
        self._set_path(label)

    def _set_path(self, text: Text) -> None:
        self.query_one("#code-path", Static).update(text)
