"""Schema versions: old stores are migrated forward, with their data kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import runtui
from runtui.store import schema


def test_store_at_every_older_version_is_migrated_with_its_data(tmp_path: Path) -> None:
    for version in range(1, schema.SCHEMA_VERSION):
        store = tmp_path / f"v{version}"
        store.mkdir()
        conn = sqlite3.connect(store / "runtui.db", isolation_level=None)
        for step in schema.MIGRATIONS[:version]:
            for statement in schema._statements(step):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("INSERT INTO experiments(id, name, created_at) VALUES (1, 'old', 0)")
        conn.execute(
            "INSERT INTO runs(uuid, experiment_id, name, status, started_at) "
            "VALUES ('0123456789abcdef', 1, 'kept', 'completed', 0)"
        )
        conn.close()

        opened = runtui.open_store(store)
        assert [r.name for r in opened.runs()] == ["kept"]
        assert schema.schema_version(opened.conn) == schema.SCHEMA_VERSION
        opened.close()


def test_migrations_are_a_no_op_on_a_current_store(tmp_path: Path) -> None:
    with runtui.start_run(store=tmp_path, snapshot=False, capture_output=False) as run:
        run.log("loss", 1.0)
    indexes_before = _indexes(tmp_path)
    runtui.open_store(tmp_path).close()
    assert _indexes(tmp_path) == indexes_before
    assert "summary_by_key" in indexes_before


def _indexes(store: Path) -> set[str]:
    with sqlite3.connect(store / "runtui.db") as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}


def test_an_index_added_later_keeps_the_schema_version(tmp_path: Path) -> None:
    # A store made before params_by_key_kind: a writable open adds the index (older
    # runtui keeps reading and writing the store: the version does not move).
    conn = sqlite3.connect(tmp_path / "runtui.db", isolation_level=None)
    for step in schema.MIGRATIONS:
        for statement in schema._statements(step):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
    conn.close()
    assert "params_by_key" in _indexes(tmp_path)

    runtui.open_store(tmp_path).close()
    indexes = _indexes(tmp_path)
    assert "params_by_key_kind" in indexes and "params_by_key" not in indexes
    with sqlite3.connect(tmp_path / "runtui.db") as conn:
        assert schema.schema_version(conn) == schema.SCHEMA_VERSION
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT key FROM params GROUP BY key HAVING min(kind) < max(kind)"
        ).fetchall()
    assert "COVERING INDEX params_by_key_kind" in str(plan)
