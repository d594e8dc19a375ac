"""Comparing runs without a terminal: key tables, metric deltas, environment, side by side."""

from __future__ import annotations

import math

import pytest
from compare_data import RUNS, UUIDS, build_store

from runtui.services.codediff import diff_runs, file_diff
from runtui.services.compare import (
    MISSING,
    environment_rows,
    metric_rows,
    param_changes,
    params_and_tags,
    parse_unified,
    same_value,
    side_by_side,
)
from runtui.store.neighbours import previous_run
from runtui.store.reader import Store, open_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = build_store(tmp_path_factory.mktemp("compare") / "store")
    with open_store(folder, readonly=True) as opened:
        yield opened  # type: ignore[misc]


def runs(store: Store, labels: str) -> list:  # type: ignore[type-arg]
    return [store.run(UUIDS[label]) for label in labels]


def test_same_value_is_type_and_text() -> None:
    assert same_value(1, 1) and same_value(math.nan, math.nan) and same_value("a", "a")
    assert not same_value(1, 1.0) and not same_value(True, 1) and not same_value("1", 1)
    assert not same_value(MISSING, None) and same_value(MISSING, MISSING)
    assert not same_value(0.1 + 0.2, 0.3) and not same_value(1.0, 1.0000000000000002)
    assert not same_value(0.0, -0.0)  # printed differently by show and ls


def test_params_and_tags_put_differences_first(store: Store) -> None:
    rows = params_and_tags(runs(store, "ABC"))
    assert [(r.section, r.key, r.differs) for r in rows] == [
        ("param", "batch_size", True),
        ("param", "lr", True),
        ("param", "wd", True),
        ("tag", "note", True),  # C has no note
        ("param", "epochs", False),
        ("param", "optimizer", False),
        ("tag", "team", False),
    ]
    assert rows[2].values == (MISSING, 0.01, 0.01)
    assert rows[3].values[2] is MISSING


def test_param_changes_for_the_cli() -> None:
    changes = param_changes(
        {"lr": 0.1, "seed": 1, "opt": "adam"}, {"lr": 0.2, "opt": "adam", "n": 4}
    )
    assert [(c.key, c.old, c.new) for c in changes] == [
        ("lr", 0.1, 0.2),
        ("n", MISSING, 4),
        ("seed", 1, MISSING),
    ]


def test_metric_rows_deltas_to_the_first_run(store: Store) -> None:
    rows = {r.name: r for r in metric_rows(runs(store, "ABC"))}
    assert sorted(rows) == ["acc", "grad_norm", "loss"]
    loss = rows["loss"]
    a, b = RUNS["A"]["metrics"]["loss"][-1], RUNS["B"]["metrics"]["loss"][-1]
    assert loss.delta(1, "last") == pytest.approx(b - a)
    assert loss.delta(0, "last") == 0.0
    assert loss.delta(1, "max") == 0.0 and loss.differs  # same start, different ends
    grad = rows["grad_norm"]
    assert grad.value(0, "last") is None and grad.delta(1, "last") is None
    assert grad.differs and not grad.in_all


def test_environment_rows_cover_argv_python_host_and_git(store: Store) -> None:
    rows = {r.key: r for r in environment_rows(runs(store, "AB"))}
    assert [k for k in rows][:8] == [
        "argv", "cwd", "python", "host", "user", "commit", "branch", "state",
    ]  # fmt: skip
    assert rows["argv"].values == ("python train.py --lr 0.1", "python train.py --lr 0.2 --wd 0.01")
    assert rows["state"].values == ("clean", "dirty") and rows["state"].differs
    assert not rows["python"].differs and not rows["host"].differs
    assert rows["CUDA_VISIBLE_DEVICES"].differs and not rows["OMP_NUM_THREADS"].differs


def test_side_by_side_pairs_removed_with_added_lines(store: Store) -> None:
    a, b = runs(store, "AB")
    diff = diff_runs(store, a, b)
    change = next(c for c in diff.changes if c.path == "train.py")
    lines = parse_unified(file_diff(store.conn, change))
    assert [(ln.kind, ln.old_no, ln.new_no) for ln in lines if ln.kind != "meta"][:5] == [
        ("hunk", None, None),
        ("context", 1, 1),
        ("context", 2, 2),
        ("removed", 3, None),
        ("added", None, 3),
    ]
    rows = side_by_side(lines)
    pairs = [(r.left.text if r.left else None, r.right.text if r.right else None) for r in rows]
    assert ("LR = 0.1", "LR = 0.2") in pairs  # a change: one row, old left, new right
    assert (None, "WD = 0.01") in pairs  # an added line: nothing on the left
    assert ("EPOCHS = 10", "EPOCHS = 10") in pairs
    assert all(r.kind in {"hunk", "meta", "context", "changed"} for r in rows)


def test_previous_run_stays_in_the_experiment(store: Store) -> None:
    a, b, c, d = runs(store, "ABCD")
    assert previous_run(store.conn, c.row_id) == UUIDS["B"]  # D started between, other experiment
    assert previous_run(store.conn, b.row_id) == UUIDS["A"]
    assert previous_run(store.conn, a.row_id) is None
    assert previous_run(store.conn, d.row_id) is None
