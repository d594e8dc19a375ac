"""The writing and reading API as a training script and a notebook use it."""

from __future__ import annotations

import gc
import math
import sqlite3
import weakref
from pathlib import Path

import pytest

import runtui
from runtui.errors import (
    AmbiguousRunError,
    ParamConflictError,
    RunNotFoundError,
    StoreError,
    StoreVersionError,
)
from runtui.tracking import api


def start(store: Path, **kwargs):
    kwargs.setdefault("snapshot", False)
    kwargs.setdefault("capture_output", False)
    return runtui.start_run(store=store, **kwargs)


def test_context_manager_run_is_completed_with_everything_readable(store_dir: Path) -> None:
    with start(store_dir, experiment="bert", name="r1", params={"lr": 3e-4, "opt": "adam"},
               tags={"team": "nlp"}) as run:  # fmt: skip
        for i in range(100):
            run.log({"loss": 1.0 / (i + 1), "acc": i / 100}, step=i)
        run.set_tag("baseline")
    store = runtui.open_store(store_dir)
    record = store.run(run.id)
    assert record.status == "completed"
    assert record.experiment == "bert"
    assert record.params == {"lr": 3e-4, "opt": "adam"}
    assert record.tags == {"team": "nlp", "baseline": ""}
    loss = record.summary["loss"]
    assert (loss.count, loss.first_step, loss.last_step) == (100, 0, 99)
    assert loss.last == pytest.approx(0.01) and loss.min == pytest.approx(0.01) and loss.max == 1.0
    history = record.history("acc")
    assert [s for s, _, _ in history] == list(range(100))
    assert history[-1][2] == pytest.approx(0.99)
    assert record.ended_at is not None and record.ended_at >= record.started_at
    assert record.host and record.pid and record.python and record.command


def test_exception_marks_failed_with_traceback(store_dir: Path) -> None:
    with pytest.raises(ZeroDivisionError), start(store_dir) as run:
        run.log("loss", 1.0)
        _ = 1 / 0
    record = runtui.open_store(store_dir).run(run.uuid)
    assert record.status == "failed"
    assert "ZeroDivisionError" in record.error and "Traceback" in record.error


def test_keyboard_interrupt_marks_canceled(store_dir: Path) -> None:
    with pytest.raises(KeyboardInterrupt), start(store_dir) as run:
        raise KeyboardInterrupt
    assert runtui.open_store(store_dir).run(run.uuid).status == "canceled"


def test_steps_count_up_per_metric_without_step(store_dir: Path) -> None:
    with start(store_dir) as run:
        for _ in range(3):
            run.log("a", 1.0)
        run.log("b", 2.0)
        run.log({"a": 5.0, "b": 6.0})
        run.log("c", 1.0, step=10)
        run.log("c", 2.0)
    record = runtui.open_store(store_dir).run(run.uuid)
    assert [s for s, _, _ in record.history("a")] == [0, 1, 2, 3]
    assert [s for s, _, _ in record.history("b")] == [0, 1]
    assert [s for s, _, _ in record.history("c")] == [10, 11]


def test_nan_and_infinities_are_values(store_dir: Path) -> None:
    with start(store_dir) as run:
        run.log("x", 1.0)
        run.log("x", math.nan)
        run.log("x", math.inf)
        run.log("x", -math.inf)
    record = runtui.open_store(store_dir).run(run.uuid)
    values = [v for _, _, v in record.history("x")]
    assert values[0] == 1.0 and math.isnan(values[1]) and values[2:] == [math.inf, -math.inf]
    summary = record.summary["x"]
    assert summary.last == -math.inf and summary.min == -math.inf and summary.max == math.inf
    assert summary.count == 4


@pytest.mark.parametrize("bad", ["0.5", None, [1.0], {"a": 1}, b"1"])
def test_non_numeric_metric_value_raises_type_error_naming_metric(store_dir: Path, bad) -> None:
    with start(store_dir) as run:
        with pytest.raises(TypeError, match="val_loss"):
            run.log("val_loss", bad)
        with pytest.raises(TypeError, match="val_loss"):
            run.log({"ok": 1.0, "val_loss": bad})
        run.log("ok", 2.0)
    # the rejected dict logged nothing, not even its valid part
    assert [v for _, _, v in runtui.open_store(store_dir).run(run.uuid).history("ok")] == [2.0]


def test_empty_or_non_string_metric_name_raises(store_dir: Path) -> None:
    with start(store_dir) as run:
        with pytest.raises(ValueError, match="empty"):
            run.log("", 1.0)
        with pytest.raises(TypeError):
            run.log({3: 1.0})
        with pytest.raises(TypeError, match="step"):
            run.log("x", 1.0, step="3")


def test_an_empty_experiment_or_run_name_raises_at_the_call(store_dir: Path) -> None:
    with pytest.raises(ValueError, match="experiment name must not be empty"):
        runtui.start_run("", store=store_dir)
    with pytest.raises(ValueError, match="run name must not be empty"):
        runtui.start_run("exp", " ", store=store_dir)
    assert not store_dir.exists()


def test_numpy_like_scalars_are_accepted(store_dir: Path) -> None:
    class Scalar:
        def __float__(self) -> float:
            return 0.25

    with start(store_dir) as run:
        run.log("x", Scalar())
        run.log("flag", True)
    record = runtui.open_store(store_dir).run(run.uuid)
    assert record.summary["x"].last == 0.25 and record.summary["flag"].last == 1.0


def test_param_conflict_names_key_and_both_values(store_dir: Path) -> None:
    with start(store_dir, params={"lr": 0.1}) as run:
        run.log_param("lr", 0.1)  # the same value again is fine
        with pytest.raises(ParamConflictError) as info:
            run.log_param("lr", 0.01)
        message = str(info.value)
        assert "'lr'" in message and "0.1" in message and "0.01" in message
        run.log_params({"layers": 12, "dropout": None, "sizes": [1, 2], "use_amp": True})
    params = runtui.open_store(store_dir).run(run.uuid).params
    assert params == {"lr": 0.1, "layers": 12, "dropout": None, "sizes": [1, 2], "use_amp": True}
    assert type(params["use_amp"]) is bool and type(params["layers"]) is int


def test_module_level_init_log_finish(store_dir: Path) -> None:
    run = runtui.init("exp", params={"seed": 1}, snapshot=False, capture_output=False)
    assert runtui.active_run() is run
    with pytest.raises(runtui.RuntuiError, match="still active"):
        runtui.init("exp", snapshot=False, capture_output=False)
    runtui.log("loss", 0.5)
    runtui.log({"loss": 0.4})
    runtui.finish()
    assert runtui.active_run() is None
    with pytest.raises(runtui.RuntuiError, match="init"):
        runtui.log("loss", 0.3)
    record = runtui.open_store(store_dir).run(run.id)
    assert record.status == "completed" and record.summary["loss"].count == 2


def test_attach_through_runtui_run_id(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with start(store_dir, name="owner", params={"lr": 0.1}) as owner:
        monkeypatch.setenv("RUNTUI_RUN_ID", owner.uuid)
        monkeypatch.setattr(api, "_attach_consumed", False)
        child = runtui.init("ignored", snapshot=False, capture_output=False)
        assert child.uuid == owner.uuid
        runtui.log("loss", 0.5)
        with pytest.raises(ParamConflictError):
            child.log_param("lr", 0.2)
        runtui.finish()
        # the attached side never sets the status: the owner does
        assert runtui.open_store(store_dir).run(owner.uuid).status == "running"
    record = runtui.open_store(store_dir).run(owner.uuid)
    assert record.status == "completed" and record.summary["loss"].count == 1


def test_artifacts_are_content_addressed(store_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights" * 1000)
    for _ in range(2):
        with start(store_dir) as run:
            run.log_artifact(model)
            run.log_artifact(model, name="copy.bin")
    store = runtui.open_store(store_dir)
    artifacts = store.artifacts(store.run(run.uuid))
    assert [a.name for a in artifacts] == ["copy.bin", "model.bin"]
    assert store.artifact_path(artifacts[0]).read_bytes() == model.read_bytes()
    assert len([p for p in (store_dir / "artifacts").rglob("*") if p.is_file()]) == 1
    with start(store_dir) as run, pytest.raises(FileNotFoundError):
        run.log_artifact(tmp_path / "missing.bin")


def test_run_refs_short_id_name_ambiguous_unknown(store_dir: Path) -> None:
    with start(store_dir, name="same") as a:
        pass
    with start(store_dir, name="same") as b:
        pass
    with start(store_dir, name="unique") as c:
        pass
    store = runtui.open_store(store_dir)
    assert store.run(a.uuid).uuid == a.uuid
    assert store.run(b.id).uuid == b.uuid
    assert store.run("unique").uuid == c.uuid
    with pytest.raises(AmbiguousRunError, match="2 runs"):
        store.run("same")
    with pytest.raises(RunNotFoundError, match="nope"):
        store.run("nope")
    assert [e.run_count for e in store.experiments()] == [3]


def test_runs_listing_order_and_experiment(store_dir: Path) -> None:
    names = []
    for i in range(5):
        with start(store_dir, experiment="even" if i % 2 == 0 else "odd", name=f"r{i}"):
            names.append(f"r{i}")
    store = runtui.open_store(store_dir)
    assert [r.name for r in store.runs()] == names[::-1]
    assert [r.name for r in store.runs(experiment="odd")] == ["r3", "r1"]
    assert [r.name for r in store.runs(descending=False, limit=2, offset=1)] == ["r1", "r2"]
    assert store.count_runs(experiment="even") == 3
    assert [(e.name, e.run_count) for e in store.experiments()] == [("even", 3), ("odd", 2)]


def test_store_from_newer_version_is_refused_in_one_line(store_dir: Path) -> None:
    with start(store_dir):
        pass
    with sqlite3.connect(store_dir / "runtui.db") as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreVersionError, match="upgrade runtui") as info:
        runtui.open_store(store_dir)
    assert "\n" not in str(info.value)


def test_corrupt_or_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no runtui store"):
        runtui.open_store(tmp_path / "nothing")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "runtui.db").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a readable runtui store"):
        runtui.open_store(bad)


def test_store_found_by_env_then_nearest_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtui.store.location import resolve_store_path

    project = tmp_path / "project"
    (project / ".runtui").mkdir(parents=True)
    (project / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(project / "src" / "deep")
    assert resolve_store_path() == project / ".runtui"
    monkeypatch.setenv("RUNTUI_STORE", str(tmp_path / "elsewhere"))
    assert resolve_store_path() == tmp_path / "elsewhere"
    assert resolve_store_path(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv("RUNTUI_STORE")
    monkeypatch.chdir(tmp_path)
    assert resolve_store_path() == tmp_path / ".runtui"


def test_secrets_are_redacted(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtui.tracking.context import redact_argv

    monkeypatch.setenv("WANDB_API_KEY", "sk-123")
    monkeypatch.setenv("HF_TOKEN", "hf-456")
    monkeypatch.setenv("PLAIN_SETTING", "visible")
    assert redact_argv(["train.py", "--token", "abc", "--api-key=xyz", "--lr", "0.1"]) == [
        "train.py", "--token", "***", "--api-key=***", "--lr", "0.1",
    ]  # fmt: skip
    with start(store_dir) as run:
        pass
    env = runtui.open_store(store_dir).run(run.uuid).env
    assert env["WANDB_API_KEY"] == "***" and env["HF_TOKEN"] == "***"
    assert env["PLAIN_SETTING"] == "visible"
    monkeypatch.setenv("RUNTUI_NO_REDACT", "1")
    assert redact_argv(["--password", "p"]) == ["--password", "p"]


def test_bounded_buffer_slows_logging_instead_of_growing(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtui.tracking import run as run_module

    monkeypatch.setattr(run_module, "MAX_PENDING_POINTS", 500)
    with start(store_dir) as run:
        for i in range(5000):
            run.log("x", float(i))
            assert run._pending <= 500
    assert runtui.open_store(store_dir).run(run.uuid).summary["x"].count == 5000


def _set_owner(store_dir: Path, uuid: str, **fields) -> None:
    from runtui.store import connection, writer

    conn = connection.connect(store_dir)
    run_id = writer.run_row_id(conn, uuid)
    connection.write_transaction(conn, lambda c: writer.update_run(c, run_id, **fields))
    conn.close()


def test_run_whose_pid_was_reused_reads_crashed(store_dir: Path) -> None:
    import os

    run = start(store_dir)
    run.log("x", 1.0)
    # the pid is alive (ours) but was started at another time: not the run's process
    run._flusher.stop()
    _set_owner(store_dir, run.uuid, pid=os.getpid(), pid_started="1")
    assert runtui.open_store(store_dir).run(run.uuid).status == "crashed"


def test_run_from_another_host_is_crashed_once_its_heartbeat_is_stale(store_dir: Path) -> None:
    import time

    from runtui import liveness

    fresh = start(store_dir, name="fresh")
    stale = start(store_dir, name="stale")
    for run in (fresh, stale):
        run._flusher.stop()
    now = time.time()
    _set_owner(store_dir, fresh.uuid, host="gpu-node-7", heartbeat_at=now)
    _set_owner(
        store_dir, stale.uuid, host="gpu-node-7", heartbeat_at=now - liveness.STALE_AFTER_S - 5
    )
    store = runtui.open_store(store_dir)
    assert store.run("fresh").status == "running"
    crashed = store.run("stale")
    assert crashed.status == "crashed" and crashed.ended_at == pytest.approx(now - 65, abs=1)


def test_system_metrics_are_sampled_under_sys(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from runtui.tracking import sysmetrics

    monkeypatch.setattr(sysmetrics, "INTERVAL_S", 0.05)
    with start(store_dir, system_metrics=True) as run:
        time.sleep(0.3)
    summary = runtui.open_store(store_dir).run(run.uuid).summary
    assert summary["sys/rss_mb"].count >= 2 and summary["sys/rss_mb"].last > 1
    assert "sys/cpu_percent" in summary


def test_a_huge_value_never_stops_logging_for_other_runs(store_dir: Path) -> None:
    a = start(store_dir, name="a", params={"id": 10**30})
    b = start(store_dir, name="b")
    b.log("huge", 10**30)  # beyond 64 bits: stored as a float
    with pytest.raises(ValueError, match="too large"):
        b.log("enormous", 10**400)
    with pytest.raises(ValueError, match="step"):
        b.log("x", 1.0, step=2**70)
    a.log("loss", 0.5)
    a.finish()
    b.finish()
    store = runtui.open_store(store_dir)
    assert store.run("a").params == {"id": 10**30}
    assert store.run("a").summary["loss"].last == 0.5
    assert store.run("b").summary["huge"].last == 1e30


def test_relogged_steps_replace_points_and_the_summary_agrees(store_dir: Path) -> None:
    with start(store_dir) as run:
        run.log("x", 100.0, step=0)
        run.log("x", 5.0, step=1)
        run._flusher.flush()
        run.log("x", 1.0, step=0)  # a resumed run logs step 0 again
        run.log("x", 2.0, step=1)
        run.log("y", 9.0, step=3)
        run.log("y", 7.0, step=3)  # twice in one batch: the last one wins
    record = runtui.open_store(store_dir).run(run.uuid)
    assert [(s, v) for s, _, v in record.history("x")] == [(0, 1.0), (1, 2.0)]
    x = record.summary["x"]
    assert (x.count, x.last, x.min, x.max) == (2, 2.0, 1.0, 2.0)
    assert record.summary["y"].last == 7.0 and record.summary["y"].count == 1


def test_nothing_is_accepted_after_finish(store_dir: Path) -> None:
    run = start(store_dir)
    run.finish()
    run.finish()  # twice is fine
    for call in (
        lambda: run.log("x", 1.0),
        lambda: run.log_param("a", 1),
        lambda: run.set_tag("t"),
    ):
        with pytest.raises(RuntimeError, match="finished"):
            call()


def test_a_failed_transaction_never_files_points_under_another_metric(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtui.store import connection, writer

    run = start(store_dir)
    real = writer.write_points
    calls = {"n": 0}

    def fail_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("disk I/O error")
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "write_points", fail_once)
    run.log("brand_new", 1.0)
    run._flusher.flush()  # fails: rolled back, spilled
    other = connection.connect(store_dir)
    connection.write_transaction(other, lambda c: writer.intern_metric_keys(c, ["someone_else"]))
    other.close()
    run.log("brand_new", 2.0)
    run._flusher.failed_at = None  # retry at once rather than in 5 s
    run.finish()
    summary = runtui.open_store(store_dir).run(run.uuid).summary
    assert "someone_else" not in summary
    assert summary["brand_new"].count == 2


def test_damaged_or_orphaned_spill_files_never_break_opening_the_store(store_dir: Path) -> None:
    import json

    with start(store_dir, name="kept") as run:
        pass
    spill_dir = store_dir / "spill"
    spill_dir.mkdir()
    good = {
        "op": "points",
        "uuid": run.uuid,
        "key": "late",
        "steps": [0],
        "ts": [0],
        "values": [1.5],
    }
    orphan = {"op": "params", "uuid": "0000-removed-run", "params": {"a": 1}}
    (spill_dir / "x.1.jsonl").write_text(
        json.dumps(good) + "\n" + json.dumps(orphan) + "\n" + '{"op": "params", "uu'
    )
    (spill_dir / "y.2.jsonl").write_text(json.dumps({"op": "points", "uuid": run.uuid}) + "\n")
    store = runtui.open_store(store_dir)
    assert store.run("kept").summary["late"].last == 1.5
    assert [p.name for p in spill_dir.iterdir()] == ["y.2.bad"]  # set aside, not retried


def test_a_name_that_is_also_an_id_prefix_is_ambiguous(store_dir: Path) -> None:
    with start(store_dir) as other:
        pass
    with start(store_dir, name=other.id[:6]) as named:
        pass
    store = runtui.open_store(store_dir)
    with pytest.raises(AmbiguousRunError, match="2 runs"):
        store.run(other.id[:6])
    assert store.run(other.id).uuid == other.uuid
    assert store.run(named.id).uuid == named.uuid


def test_listed_runs_carry_params_and_the_downsample_of_each_metric(store_dir: Path) -> None:
    with start(store_dir, params={"lr": math.nan, "on": True, "shape": [3, 4], "n": 7}) as run:
        for i in range(256):
            run.log("loss", float(i), step=i)
    listed = runtui.open_store(store_dir).runs()[0]
    assert listed.params["on"] is True and listed.params["shape"] == [3, 4]
    assert math.isnan(listed.params["lr"]) and listed.params["n"] == 7
    spark = listed.summary["loss"].spark
    assert len(spark) > 1 and spark == tuple(sorted(spark))  # a rising curve, bucket means
    assert spark == runtui.open_store(store_dir).run(run.id).summary["loss"].spark


def test_listed_records_are_freed_as_soon_as_they_are_dropped(store_dir: Path) -> None:
    # A record that referred to itself would wait for the garbage collector: a notebook
    # or the TUI listing runs over and over would hold every listing until a collection.
    with start(store_dir) as run:
        run.log("loss", 1.0)
    store = runtui.open_store(store_dir)
    gc.disable()
    try:
        records = store.runs()
        assert records[0].history("loss")[0][2] == 1.0
        freed = weakref.ref(records[0])
        del records
        assert freed() is None
    finally:
        gc.enable()
