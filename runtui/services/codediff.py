"""What changed in the code between two runs: the file list first, each file's diff on demand.

`diff_snapshots` compares the two file lists as sets (path → hash, mode,
link): a file whose hash is the same is not read at all, so two 5,000-file
snapshots with ten changed files read ten pairs of blobs. Line counts
(insertions/deletions, as ``git diff --stat`` reports them) are computed for
the changed text files; binary files (a NUL byte in the first 8,000 bytes,
git's rule, or content that is not UTF-8) and files over `MAX_DIFF_BYTES`
are named with their sizes and never dumped, unless the diff is to be
applied: then they are git binary patches (`binary_patch`).

`file_diff` renders one change as git-style unified diff text (``diff
--git`` header, ``a/`` and ``b/`` prefixes, mode lines, ``\\ No newline at
end of file``), so the output also feeds ``git apply`` and diff pagers. The
text is exactly what is stored: callers showing it on a terminal strip
escape sequences themselves (`runtui.services.textsafe`).

No UI imports: the CLI (``runtui diff --code``) and the TUI compare screen
share this module.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import sqlite3
import string
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runtui.errors import RuntuiError
from runtui.services.units import human_size
from runtui.store import snapshots
from runtui.store.snapshots import SnapshotFile

if TYPE_CHECKING:
    from runtui.store.reader import Store
    from runtui.store.records import RunRecord

MAX_DIFF_BYTES = 1_000_000
_BINARY_PROBE = 8000
_LINE_BYTES = 52  # bytes per line of a git binary patch
_COUNT_CHARS = string.ascii_uppercase + string.ascii_lowercase
ADDED, REMOVED, MODIFIED, MODE = "added", "removed", "modified", "mode changed"


@dataclass(frozen=True)
class FileChange:
    """One path that differs. ``added``/``removed`` line counts are None for binary/large files."""

    path: str
    status: str  # ADDED | REMOVED | MODIFIED | MODE
    old: SnapshotFile | None
    new: SnapshotFile | None
    added: int | None = 0
    removed: int | None = 0
    binary: bool = False
    too_large: bool = False

    @property
    def old_size(self) -> int | None:
        return self.old.size if self.old else None

    @property
    def new_size(self) -> int | None:
        return self.new.size if self.new else None

    @property
    def shown_as_text(self) -> bool:
        return not self.binary and not self.too_large


@dataclass
class CodeDiff:
    """The changes from snapshot ``old_id`` to ``new_id``, in path order."""

    old_id: int
    new_id: int
    changes: list[FileChange] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.changes

    @property
    def insertions(self) -> int:
        return sum(c.added or 0 for c in self.changes)

    @property
    def deletions(self) -> int:
        return sum(c.removed or 0 for c in self.changes)

    def summary(self) -> str:
        """``3 files changed, 10 insertions(+), 4 deletions(-)``, as git says it."""
        n = len(self.changes)
        text = f"{n} file{'s' if n != 1 else ''} changed"
        text += f", {self.insertions} insertion{'s' if self.insertions != 1 else ''}(+)"
        text += f", {self.deletions} deletion{'s' if self.deletions != 1 else ''}(-)"
        return text

    def stat_lines(self, width: int = 80) -> list[str]:
        """``git diff --stat`` lines: `` path | 12 +++---``, binary and mode changes named."""
        if not self.changes:
            return []
        name_w = min(max(len(c.path) for c in self.changes), max(width // 2, 20))
        counts = [(c.added or 0) + (c.removed or 0) for c in self.changes]
        count_w = max(len(str(n)) for n in counts)
        bar_room = max(width - name_w - count_w - 6, 10)
        scale = max(counts) / bar_room if max(counts) > bar_room else 1
        lines = []
        for change, total in zip(self.changes, counts, strict=True):
            name = change.path if len(change.path) <= name_w else "..." + change.path[-name_w + 3 :]
            if change.binary or change.too_large:
                what = "Bin" if change.binary else "Large"
                right = f"{what} {_size(change.old_size)} -> {_size(change.new_size)}"
            elif change.status == MODE:
                right = f"mode {_mode(change.old)} -> {_mode(change.new)}"
            else:
                plus = round((change.added or 0) / scale)
                minus = round((change.removed or 0) / scale)
                right = f"{total:>{count_w}} {'+' * plus}{'-' * minus}".rstrip()
            lines.append(f" {name:<{name_w}} | {right}")
        lines.append(" " + self.summary())
        return lines


def _size(size: int | None) -> str:
    if size is None:
        return "0 B"
    return human_size(size)


def _mode(entry: SnapshotFile | None) -> str:
    if entry is None:
        return "-"
    return "120000" if entry.is_link else f"100{entry.mode & 0o777:o}"


def _git_mode(entry: SnapshotFile) -> str:
    """Git's file modes: 120000 link, 100755 executable, else 100644."""
    if entry.is_link:
        return "120000"
    return "100755" if entry.mode & 0o111 else "100644"


class _Contents:
    """Blob contents by hash, decompressed once."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.cache: dict[str, bytes] = {}

    def of(self, entry: SnapshotFile) -> bytes:
        if entry.is_link:
            return (entry.link or "").encode()
        assert entry.hash is not None
        if entry.hash not in self.cache:
            data = snapshots.read_blob(self.conn, entry.hash)
            if data is None:
                raise RuntuiError(f"the store is missing the content of {entry.path}")
            self.cache[entry.hash] = zlib.decompress(data)
        return self.cache[entry.hash]


def _is_binary(data: bytes) -> bool:
    """Git's rule (a NUL byte near the start), and also any content that is not UTF-8 text.

    Decoding such content with replacement characters would put a patch on
    screen (and into ``git apply``) that does not match the file's bytes.
    """
    if b"\0" in data[:_BINARY_PROBE]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _lines(data: bytes) -> list[str]:
    """Lines split at ``\n`` only, as git does (``splitlines`` also splits at ``\r``, ``\f``…)."""
    parts = data.decode("utf-8").split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _count(old: bytes, new: bytes) -> tuple[int, int]:
    a, b = _lines(old), _lines(new)
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


def _change(
    contents: _Contents, path: str, old: SnapshotFile | None, new: SnapshotFile | None, counts: bool
) -> FileChange:
    if old is None or new is None:
        status = ADDED if old is None else REMOVED
    elif old.hash == new.hash and old.link == new.link:
        return FileChange(path, MODE, old, new)
    else:
        status = MODIFIED
    sizes = [e.size for e in (old, new) if e is not None]
    if max(sizes) > MAX_DIFF_BYTES:
        return FileChange(path, status, old, new, None, None, too_large=True)
    if not counts:
        return FileChange(path, status, old, new, None, None)
    old_data = contents.of(old) if old else b""
    new_data = contents.of(new) if new else b""
    if _is_binary(old_data) or _is_binary(new_data):
        return FileChange(path, status, old, new, None, None, binary=True)
    added, removed = _count(old_data, new_data)
    return FileChange(path, status, old, new, added, removed)


def diff_snapshots(
    conn: sqlite3.Connection, old_id: int, new_id: int, *, line_counts: bool = True
) -> CodeDiff:
    """Compare two snapshots' file lists; with ``line_counts``, also count changed lines."""
    result = CodeDiff(old_id, new_id)
    if old_id == new_id:
        return result
    contents = _Contents(conn)
    for a, b in snapshots.changed_files(conn, old_id, new_id):
        path = (a or b).path
        result.changes.append(_change(contents, path, a, b, line_counts))
    return result


def diff_runs(
    store: Store, old: RunRecord, new: RunRecord, *, line_counts: bool = True
) -> CodeDiff:
    """Code diff of two runs; a run without a snapshot is an error that names it."""
    for run in (old, new):
        if run.snapshot_id is None:
            raise RuntuiError(f"run {run.id} ({run.name}) has no code snapshot")
    assert old.snapshot_id is not None and new.snapshot_id is not None
    return diff_snapshots(store.conn, old.snapshot_id, new.snapshot_id, line_counts=line_counts)


def file_diff(
    conn: sqlite3.Connection, change: FileChange, context: int = 3, *, for_apply: bool = False
) -> str:
    """The unified diff text of one change, git style.

    Binary and large files are named with their sizes, for a person to read;
    ``for_apply`` writes them as git binary patches instead, so that ``git
    apply`` recreates them byte for byte.
    """
    path, old, new = change.path, change.old, change.new
    out = [f"diff --git a/{path} b/{path}\n"]
    if old is None and new is not None:
        out.append(f"new file mode {_git_mode(new)}\n")
    elif new is None and old is not None:
        out.append(f"deleted file mode {_git_mode(old)}\n")
    elif old is not None and new is not None and _git_mode(old) != _git_mode(new):
        out.append(f"old mode {_git_mode(old)}\nnew mode {_git_mode(new)}\n")
    if change.status == MODE:
        return "".join(out)
    a_name = f"a/{path}" if old else "/dev/null"
    b_name = f"b/{path}" if new else "/dev/null"
    if (change.too_large or change.binary) and not for_apply:
        out.append(_not_shown(change, a_name, b_name, "Binary" if change.binary else "Large"))
        return "".join(out)
    contents = _Contents(conn)
    old_data = contents.of(old) if old else b""
    new_data = contents.of(new) if new else b""
    if change.too_large or _is_binary(old_data) or _is_binary(new_data):
        if for_apply:
            out.append(binary_patch(old_data if old else None, new_data if new else None))
        else:
            out.append(_not_shown(change, a_name, b_name, "Binary"))
        return "".join(out)
    lines = difflib.unified_diff(_lines(old_data), _lines(new_data), a_name, b_name, n=context)
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _not_shown(change: FileChange, a_name: str, b_name: str, what: str) -> str:
    sizes = f"{_size(change.old_size)} -> {_size(change.new_size)}"
    return f"{what} files {a_name} and {b_name} differ ({sizes}; not shown)\n"


def full_diff(
    conn: sqlite3.Connection, diff: CodeDiff, context: int = 3, *, for_apply: bool = False
) -> str:
    """Every change's unified diff, one after another (``for_apply``: see `file_diff`)."""
    return "".join(file_diff(conn, c, context, for_apply=for_apply) for c in diff.changes)


# -- git binary patches -------------------------------------------------------------


def binary_patch(old: bytes | None, new: bytes | None) -> str:
    """What ``git diff --binary`` writes after a file's header lines (None: no such file).

    ``git apply`` requires the ``index`` line with both full blob ids: it
    checks the old file against the first and its result against the second.
    The ``literal`` hunk to the old content makes the patch reversible
    (``git apply -R``).
    """
    return (
        f"index {_blob_id(old)}..{_blob_id(new)}\n"
        "GIT binary patch\n" + _literal(new or b"") + _literal(old or b"")
    )


def _blob_id(data: bytes | None) -> str:
    """The id git gives ``data`` as a blob (SHA-1); all zeros for a file that does not exist."""
    if data is None:
        return "0" * 40
    digest = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest()


def _literal(data: bytes) -> str:
    """A ``literal`` hunk: ``data`` zlib-deflated, in base85 lines of up to 52 bytes, each
    led by a character giving its byte count (``A``-``Z`` 1-26, ``a``-``z`` 27-52), then
    an empty line."""
    deflated = zlib.compress(data)
    # git's base85 is Python's alphabet, with the last group padded to 5 characters;
    # 52 bytes are 13 groups, so each line is a 65-character slice of one encoding
    encoded = base64.b85encode(deflated, pad=True).decode("ascii")
    lines = [f"literal {len(data)}"]
    for start in range(0, len(deflated), _LINE_BYTES):
        count = min(_LINE_BYTES, len(deflated) - start)
        chars = encoded[start // 4 * 5 : (start + count + 3) // 4 * 5]
        lines.append(_COUNT_CHARS[count - 1] + chars)
    return "\n".join(lines) + "\n\n"
