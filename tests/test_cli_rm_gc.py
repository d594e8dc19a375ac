"""``runtui rm`` and ``runtui gc``: what goes, what stays, and when they refuse."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
import zlib
from pathlib import Path

import pytest
from cli_helpers import T0, add_run, cli

import runtui
from runtui.cli import cmd_rm
from runtui.store import connection, writer


def _db(store: Path) -> sqlite3.Connection:
    return sqlite3.connect(store / "runtui.db")


def _count(store: Path, sql: str, *args: object) -> int:
    return _db(store).execute(sql, args).fetchone()[0]


def _add_snapshot(store: Path, files: dict[str, bytes], run_uuids: list[str]) -> int:
    """A code snapshot of ``files`` used by the given runs."""
    conn = connection.connect(store)

    def write(c: sqlite3.Connection) -> int:
        manifest = hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest()
        snapshot_id = c.execute(
            "INSERT INTO snapshots(manifest, root, created_at, file_count, total_size) "
            "VALUES (?, '/src', ?, ?, ?)",
            (manifest, time.time(), len(files), sum(map(len, files.values()))),
        ).lastrowid
        for path, data in files.items():
            digest = hashlib.sha256(data).hexdigest()
            c.execute(
                "INSERT OR IGNORE INTO blobs(hash, size, data) VALUES (?, ?, ?)",
                (digest, len(data), zlib.compress(data)),
            )
            c.execute(
                "INSERT INTO snapshot_files(snapshot_id, path, hash, size, mode) "
                "VALUES (?, ?, ?, ?, 420)",
                (snapshot_id, path, digest, len(data)),
            )
        for run_uuid in run_uuids:
            writer.update_run(c, writer.run_row_id(c, run_uuid), snapshot_id=snapshot_id)
        return snapshot_id

    snapshot_id = connection.write_transaction(conn, write)
    conn.close()
    return snapshot_id


def _add_artifact(store: Path, run_uuid: str, name: str, data: bytes, age_s: float) -> Path:
    digest = hashlib.sha256(data).hexdigest()
    path = store / "artifacts" / digest[:2] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (time.time() - age_s, time.time() - age_s))
    conn = connection.connect(store)
    connection.write_transaction(
        conn,
        lambda c: writer.add_artifact(
            c, writer.run_row_id(c, run_uuid), name, digest, len(data), time.time()
        ),
    )
    conn.close()
    return path


@pytest.fixture
def store(store_dir: Path) -> dict[str, str]:
    """Three runs: ``doomed`` and ``keeper`` share a snapshot; ``doomed`` also has its own."""
    uuids = {
        name: add_run(
            store_dir,
            name,
            started_at=T0 + i,
            params={"lr": 0.1},
            tags={"t": "x"},
            metrics={"loss": [1.0, 0.5, 0.25]},
        )
        for i, name in enumerate(["doomed", "keeper", "solo"])
    }
    _add_snapshot(store_dir, {"train.py": b"print('shared')\n" * 50}, [uuids["keeper"]])
    _add_snapshot(store_dir, {"train.py": b"print('own')\n" * 5000}, [uuids["doomed"]])
    (store_dir / "logs").mkdir()
    for run_uuid in uuids.values():
        (store_dir / "logs" / f"{run_uuid}.log").write_text("hello\n")
    return uuids


def test_rm_deletes_the_run_and_what_only_it_used(store: dict[str, str], store_dir: Path):
    doomed = store["doomed"]
    _add_artifact(store_dir, doomed, "model.bin", b"weights", age_s=0)
    result = cli("rm", "doomed", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "deleted 1 run (3 points, 1 snapshot)" in result.stderr
    assert result.stdout == ""
    with runtui.open_store(store_dir) as s:
        assert sorted(r.name for r in s.runs()) == ["keeper", "solo"]
        assert s.run("keeper").summary["loss"].count == 3
    for table in ("metrics", "metric_summary", "params", "tags", "artifacts"):
        assert _count(store_dir, f"SELECT count(*) FROM {table} WHERE run_id NOT IN "
                      "(SELECT id FROM runs)") == 0, table  # fmt: skip
    assert _count(store_dir, "SELECT count(*) FROM metrics") == 6
    assert _count(store_dir, "SELECT count(*) FROM snapshots") == 1  # keeper's stays
    assert not (store_dir / "logs" / f"{doomed}.log").exists()
    assert (store_dir / "logs" / f"{store['keeper']}.log").exists()


def test_rm_keeps_a_snapshot_another_run_still_uses(store: dict[str, str], store_dir: Path):
    _add_snapshot(store_dir, {"a.py": b"x"}, [store["solo"], store["keeper"]])
    assert cli("rm", "solo", "--yes").exit_code == 0
    assert _count(store_dir, "SELECT count(*) FROM snapshots") == 3
    assert _count(store_dir, "SELECT count(*) FROM runs WHERE snapshot_id IS NOT NULL") == 2


def test_rm_refuses_without_yes_when_not_interactive(store: dict[str, str], store_dir: Path):
    result = cli("rm", "doomed")
    assert result.exit_code == 2
    assert "refusing to delete without --yes" in result.stderr
    assert _count(store_dir, "SELECT count(*) FROM runs") == 3


def test_rm_asks_on_a_terminal(
    store: dict[str, str], store_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(cmd_rm, "_interactive", lambda: True)
    result = cli("rm", "doomed", "solo", input="n\n")
    assert result.exit_code == 1 and "Delete 2 runs?" in result.stderr
    assert result.stderr.endswith("\nnothing deleted\n")  # an answer, not an error
    assert _count(store_dir, "SELECT count(*) FROM runs") == 3
    result = cli("rm", "doomed", "solo", input="y\n")
    assert result.exit_code == 0, result.stderr
    assert _count(store_dir, "SELECT count(*) FROM runs") == 1


def test_rm_deletes_nothing_when_one_ref_is_unknown(store: dict[str, str], store_dir: Path):
    result = cli("rm", "doomed", "nobody", "--yes")
    assert result.exit_code == 2
    assert result.stderr == "runtui: error: no run matches 'nobody'\n"
    assert _count(store_dir, "SELECT count(*) FROM runs") == 3


def test_rm_refuses_a_running_run(store_dir: Path):
    add_run(store_dir, "live", status="running", extra={"pid": os.getpid(),
            "host": __import__("runtui.liveness").liveness.hostname()})  # fmt: skip
    with runtui.open_store(store_dir) as s:
        assert s.run("live").status == "running"
    result = cli("rm", "live", "--yes")
    assert result.exit_code == 2 and "still running" in result.stderr
    assert _count(store_dir, "SELECT count(*) FROM runs") == 1


def test_gc_frees_what_nothing_uses(store: dict[str, str], store_dir: Path):
    old = _add_artifact(store_dir, store["doomed"], "old.bin", os.urandom(50_000), age_s=7200)
    kept = _add_artifact(store_dir, store["keeper"], "kept.bin", b"kept", age_s=7200)
    fresh = store_dir / "artifacts" / "ff" / ("f" * 64)  # being saved right now
    fresh.parent.mkdir(parents=True, exist_ok=True)
    fresh.write_bytes(b"in flight")
    assert cli("rm", "doomed", "--yes").exit_code == 0
    blobs_before = _count(store_dir, "SELECT count(*) FROM blobs")
    size_before = (store_dir / "runtui.db").stat().st_size

    result = cli("gc")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("freed ") and not result.stderr.startswith("freed 0 ")
    assert "1 artifact file(s)" in result.stderr
    assert _count(store_dir, "SELECT count(*) FROM blobs") == blobs_before - 1
    assert not old.exists() and kept.exists() and fresh.exists()
    assert (store_dir / "runtui.db").stat().st_size <= size_before
    with runtui.open_store(store_dir) as s:  # what remains still reads
        assert [r.name for r in s.runs()] == ["solo", "keeper"]

    again = cli("gc")
    assert again.exit_code == 0
    assert "0 snapshot(s), 0 blob(s), 0 artifact file(s)" in again.stderr


def test_gc_drops_snapshots_no_run_uses(store: dict[str, str], store_dir: Path):
    conn = connection.connect(store_dir)
    connection.write_transaction(
        conn, lambda c: c.execute("UPDATE runs SET snapshot_id = NULL WHERE name = 'keeper'")
    )
    conn.close()
    result = cli("gc")
    assert result.exit_code == 0
    assert "1 snapshot(s), 1 blob(s)" in result.stderr
    assert _count(store_dir, "SELECT count(*) FROM snapshot_files") == 1


def test_gc_right_after_rm_says_how_many_recent_files_it_kept(
    store: dict[str, str], store_dir: Path
):
    _add_artifact(store_dir, store["doomed"], "ckpt.bin", b"weights", age_s=0)
    assert cli("rm", "doomed", "--yes").exit_code == 0
    result = cli("gc")
    assert result.exit_code == 0, result.stderr
    assert "0 artifact file(s) removed" in result.stderr
    assert "kept 1 unused artifact file(s) written less than 1 hour ago" in result.stderr


def test_rm_of_many_runs_runs_a_bounded_number_of_statements(store_dir: Path):
    from runtui.store import maintenance

    conn = connection.connect(store_dir, create=True)

    def write(c: sqlite3.Connection) -> list[int]:
        ids = []
        for i in range(1200):
            row = writer.insert_run(
                c, "many", {"uuid": f"u{i}", "name": f"r{i}", "status": "completed",
                            "started_at": T0 + i, "heartbeat_at": T0 + i},
            )  # fmt: skip
            writer.write_params(c, row, {"lr": i})
            ids.append(row)
        return ids

    ids = connection.write_transaction(conn, write)
    statements: list[str] = []

    class Counting:  # the connection, counting the statements handed to SQLite
        def execute(self, sql: str, args: object = ()) -> sqlite3.Cursor:
            statements.append(sql)
            return conn.execute(sql, args)

    deleted = connection.write_transaction(
        conn, lambda _c: maintenance.delete_runs(Counting(), ids[:1100])
    )
    assert deleted.runs == 1100
    import collections

    print(collections.Counter(s[:30] for s in statements))
    assert len(statements) < 40  # per table and per 500 runs, not per run
    assert _count(store_dir, "SELECT count(*) FROM runs") == 100
    assert _count(store_dir, "SELECT count(*) FROM params") == 100


@pytest.mark.parametrize("damaged", [False, True])
def test_gc_tells_a_full_disk_from_a_damaged_database(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch, damaged: bool
):
    add_run(store_dir, "big", metrics={"loss": [i / 7 for i in range(20_000)]})
    db = store_dir / "runtui.db"
    if damaged:  # a page in the middle of the points, its header overwritten
        page = 4096
        with open(db, "r+b") as f:
            f.seek(page * (db.stat().st_size // page // 2))
            f.write(b"\xff" * 64)

    def full(*args: object) -> None:  # what SQLite says when VACUUM meets either
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = sqlite3.SQLITE_FULL
        raise error

    monkeypatch.setattr("runtui.store.maintenance.collect_garbage", full)
    result = cli("gc")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    if damaged:
        assert result.stderr.startswith("runtui: error: the store's database is damaged (")
    else:
        assert result.stderr.startswith("runtui: error: not enough disk space to compact")
