"""``runtui export``: the contract's columns, every format read back, formulas, errors."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import T0, add_run, cli, cli_process

import runtui
from runtui.cli import output

NAN, INF = float("nan"), float("inf")
VALUES = [0.1 + 0.2, NAN, INF, -INF, -1.5e-300, 12345678.9]
FORMULA = '=HYPERLINK("http://x","y")'


@pytest.fixture
def store(store_dir: Path) -> Path:
    add_run(
        store_dir, "first", experiment="exp", started_at=T0,
        params={"lr": 0.001, "opt": "adam", "on": True, "shape": [3, 4], "neg": "-1"},
        tags={"team": "nlp"}, metrics={"loss": VALUES, "-dash": [1.0, 2.0]},
    )  # fmt: skip
    add_run(
        store_dir, FORMULA, experiment="exp", started_at=T0 + 60, status="failed",
        params={"lr": NAN}, metrics={"loss": [INF]},
    )  # fmt: skip
    add_run(store_dir, "other", experiment="elsewhere", started_at=T0 + 120, metrics={"x": [1]})
    return store_dir


def parse(fmt: str, text: str) -> list[dict[str, Any]]:
    """Read an export back the way a user would."""
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    if fmt == "json":
        return json.loads(text)
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    lines = text.splitlines()
    keys = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [c.strip().replace("\\|", "|") for c in line[2:-2].split(" | ")]
        rows.append(dict(zip(keys, cells, strict=True)))
    return rows


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_runs_columns_follow_the_contract(store: Path):
    result = cli("export", "--experiment", "exp")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split(",")
    assert header == [
        "id", "uuid", "name", "experiment", "status", "started_at", "ended_at", "duration_s",
        "params.lr", "params.neg", "params.on", "params.opt", "params.shape",
        "tags.team", "metrics.-dash", "metrics.loss",
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "markdown"])
def test_runs_round_trip(store: Path, fmt: str):
    result = cli("export", "--format", fmt, "--no-escape-formulas")
    assert result.exit_code == 0, result.stderr
    rows = parse(fmt, result.stdout)
    records = {r.uuid: r for r in runtui.open_store(store).runs()}
    assert [r["name"] for r in rows] == ["first", FORMULA, "other"]  # oldest first
    for row in rows:
        record = records[row["uuid"]]
        assert row["id"] == record.id and row["status"] == record.status
        assert row["experiment"] == record.experiment
        started = datetime.fromisoformat(row["started_at"]).timestamp()
        assert abs(started - record.started_at) < 0.001
        assert row["started_at"].endswith("Z")
        assert float(row["duration_s"]) == pytest.approx(record.duration)
        for name, summary in record.summary.items():
            assert same(float(row[f"metrics.{name}"]), summary.last)
    first, second = rows[0], rows[1]
    assert same(float(first["params.lr"]), 0.001) and math.isnan(float(second["params.lr"]))
    assert float(second["metrics.loss"]) == INF
    assert first["tags.team"] == "nlp"
    if fmt in ("json", "jsonl"):
        assert first["params.shape"] == [3, 4] and first["params.on"] is True
        assert second["params.opt"] is None and second["metrics.loss"] == "Infinity"
    else:
        assert json.loads(first["params.shape"]) == [3, 4] and first["params.on"] == "true"
        assert second["params.opt"] == ""


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "markdown"])
def test_metrics_round_trip(store: Path, fmt: str):
    result = cli("export", "--what", "metrics", "--format", fmt, "--no-escape-formulas")
    assert result.exit_code == 0, result.stderr
    rows = parse(fmt, result.stdout)
    assert list(rows[0]) == ["run", "key", "step", "timestamp", "value"]
    s = runtui.open_store(store)
    expected = []
    for record in s.runs(descending=False):
        for key in sorted(record.summary):
            expected += [(record.id, key, *point) for point in record.history(key)]
    assert len(rows) == len(expected) == 10
    for row, (run_id, key, step, ts, value) in zip(rows, expected, strict=True):
        assert (row["run"], row["key"], int(row["step"])) == (run_id, key, step)
        assert abs(datetime.fromisoformat(row["timestamp"]).timestamp() - ts) <= 0.001
        assert same(float(row["value"]), value)
    values = [float(r["value"]) for r in rows if r["key"] == "loss"][: len(VALUES)]
    assert values[0] == 0.1 + 0.2  # full precision
    assert values[2:4] == [INF, -INF] and math.isnan(values[1])


def test_csv_neutralises_formulas_in_text_only(store: Path):
    runs = list(csv.DictReader(io.StringIO(cli("export").stdout)))
    assert runs[1]["name"] == "'" + FORMULA
    assert runs[0]["params.neg"] == "'-1"  # a text param
    assert runs[0]["params.lr"] == "0.001"  # numbers untouched, negative ones too
    assert "metrics.-dash" in runs[0]  # column names are ours, not user cells
    points = list(csv.DictReader(io.StringIO(cli("export", "--what", "metrics").stdout)))
    assert {r["key"] for r in points} == {"'-dash", "loss", "x"}
    assert float(next(r for r in points if r["value"] == "-inf")["value"]) == -INF
    plain = list(csv.DictReader(io.StringIO(cli("export", "--no-escape-formulas").stdout)))
    assert plain[1]["name"] == FORMULA and plain[0]["params.neg"] == "-1"
    as_json = json.loads(cli("export", "--format", "json").stdout)
    assert as_json[1]["name"] == FORMULA  # only CSV is for spreadsheets


@pytest.mark.parametrize("escape", [[], ["--no-escape-formulas"]])
def test_csv_cells_with_carriage_returns_read_back_as_one_row(store_dir: Path, escape: list[str]):
    texts = ["\rx", "a\rb", "line\r\n", "\r"]
    add_run(
        store_dir, "a\rb", params={"p\rq": texts[0], "q": texts[1]}, tags={"t": texts[2]},
        metrics={"m\rn": [1.0]},
    )  # fmt: skip
    add_run(store_dir, "plain", params={"q": texts[3]})
    keep = (lambda t: t) if escape else output.neutralise

    def read(*args: str) -> list[list[str]]:  # click's `stdout` turns \r\n into \n
        return list(csv.reader(io.StringIO(cli(*args).stdout_bytes.decode())))

    for command in (["export", *escape], ["ls"]):
        rows = read(*command, "--format", "csv")
        assert len(rows) == 3, command  # the header and two runs
        assert all(len(row) == len(rows[0]) for row in rows)
        if command[0] == "export":
            header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
            assert first["name"] == "a\rb" and "params.p\rq" in header
            assert first["params.p\rq"] == keep("\rx") and first["params.q"] == "a\rb"
            assert first["tags.t"] == "line\r\n"
    rows = read("export", *escape, "--what", "metrics", "--format", "csv")
    assert [row[1] for row in rows[1:]] == ["m\rn"]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(text: str):
    assert output.neutralise(text) == "'" + text
    assert output.neutralise("a" + text) == "a" + text


def test_filter_and_experiment_choose_what_is_exported(store: Path):
    result = cli("export", "--what", "metrics", "--filter", "status=failed", "--format", "jsonl")
    rows = parse("jsonl", result.stdout)
    assert len(rows) == 1 and rows[0]["value"] == "Infinity"
    result = cli("export", "--experiment", "elsewhere", "--format", "json")
    assert [r["name"] for r in json.loads(result.stdout)] == ["other"]


def test_output_file(store: Path, tmp_path: Path):
    target = tmp_path / "points.csv"
    result = cli("export", "--what", "metrics", "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == f"wrote 10 points to {target}\n"
    assert target.read_text().startswith("run,key,step,timestamp,value\n")
    assert not list(tmp_path.glob(".points.csv*"))  # no temporary file left


def test_failed_export_leaves_no_partial_file(store: Path, tmp_path: Path):
    target = tmp_path / "runs.csv"
    target.write_text("previous")
    result = cli("export", "--filter", "lr>", "-o", str(target))
    assert result.exit_code == 2
    assert target.read_text() == "previous"


def test_errors_are_one_line(store: Path, tmp_path: Path):
    for args, message in (
        (["--what", "params"], "unknown export 'params'"),
        (["--format", "table"], "unknown format 'table'"),
        (["--filter", "(lr>1"], "position"),
        (
            ["-o", str(tmp_path / "no" / "such" / "dir.csv")],
            f"No such file or directory: {tmp_path / 'no' / 'such'}\n",
        ),  # the folder, no tmp file
    ):
        result = cli("export", *args)
        assert result.exit_code == 2, args
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_progress_only_on_a_terminal_that_is_not_the_output(monkeypatch: pytest.MonkeyPatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    big = output.PROGRESS_MIN_ROWS
    monkeypatch.setattr(sys, "stderr", Tty())
    assert output.wants_progress(big, io.StringIO())
    assert not output.wants_progress(big - 1, io.StringIO())
    assert not output.wants_progress(big, Tty())  # data goes to the terminal itself
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not output.wants_progress(big, io.StringIO())


def test_piped_export_keeps_stdout_data_only_and_stderr_quiet(store: Path):
    done = cli_process("export", "--what", "metrics", env={"RUNTUI_STORE": str(store)})
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout.startswith("run,key,step,timestamp,value\n")
    assert len(done.stdout.splitlines()) == 11


def test_metric_names_needing_quotes_survive_csv(store_dir: Path):
    odd = 'he said "hi",\nthen =left'
    add_run(store_dir, "quoted", metrics={odd: [1.0, NAN], "=sum": [2.0]})
    for flag, expected in (([], {odd, "'=sum"}), (["--no-escape-formulas"], {odd, "=sum"})):
        rows = parse("csv", cli("export", "--what", "metrics", *flag).stdout)
        assert {r["key"] for r in rows} == expected
        assert [r["value"] for r in rows if r["key"] == odd] == ["1.0", "nan"]


def test_refuses_to_write_over_the_store_database(store: Path, monkeypatch: pytest.MonkeyPatch):
    db = store / "runtui.db"
    before = db.read_bytes()
    monkeypatch.chdir(store)
    for target in (str(db), "runtui.db", "./runtui.db-wal", str(store / "runtui.db-shm")):
        result = cli("export", "-o", target)
        assert result.exit_code == 2, target
        assert "store's own database" in result.stderr and result.stderr.count("\n") == 1
    assert db.read_bytes() == before
    assert cli("ls", "--format", "csv").exit_code == 0  # the store still opens


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_point_timestamps_are_exact_across_midnight(store_dir: Path, fmt: str):
    # Started 0.1 s before midnight UTC (plus 0.4 ms, rounded away); points 250 ms apart.
    add_run(store_dir, "late", started_at=1_700_006_399.9004, metrics={"loss": [1.0, 2.0, 3.0]})
    result = cli("export", "--what", "metrics", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    stamps = [row["timestamp"] for row in parse(fmt, result.stdout)]
    assert stamps == [
        "2023-11-14T23:59:59.900Z",
        "2023-11-15T00:00:00.150Z",
        "2023-11-15T00:00:00.400Z",
    ]


def test_runs_with_more_keys_than_one_query_joins(store_dir: Path):
    # Each key is a join; 70 keys take several queries whose cells must line up with the runs.
    for n in range(3):
        add_run(
            store_dir, f"wide-{n}", started_at=T0 + n,
            params={f"p{k:02d}": n * 100 + k for k in range(40)},
            tags={f"t{k:02d}": f"{n}-{k}" for k in range(25)},
            metrics={f"m{k}": [float(n * 10 + k)] for k in range(5)},
        )  # fmt: skip
    result = cli("export", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    rows = parse("jsonl", result.stdout)
    assert [row["name"] for row in rows] == ["wide-0", "wide-1", "wide-2"]
    for n, row in enumerate(rows):
        assert [row[f"params.p{k:02d}"] for k in range(40)] == [n * 100 + k for k in range(40)]
        assert [row[f"tags.t{k:02d}"] for k in range(25)] == [f"{n}-{k}" for k in range(25)]
        assert [row[f"metrics.m{k}"] for k in range(5)] == [float(n * 10 + k) for k in range(5)]


EDGE_TIMES = [
    T0,
    T0 + 0.0004999,
    T0 + 0.0005,
    1_700_006_399.9996,
    59.9999,
    0.0,
    -1.5,
    -0.0004,
    -86400.0001,
]
MANY_TIMES = [T0 + n * 37.123456 for n in range(3000)]  # many seconds, minutes, days


def _time_texts(name: str, times: list[float | None]) -> list[str | None]:
    """The text SQLite makes of each time as ``runs.started_at``/``ended_at``."""
    import sqlite3

    from runtui.store.export import DERIVED

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE runs (started_at REAL, ended_at REAL)")
    conn.executemany("INSERT INTO runs VALUES (?, ?)", [(t, t) for t in times])
    return [row[0] for row in conn.execute(f"SELECT {DERIVED[name]} FROM runs r")]


def test_times_made_by_sqlite_read_as_iso_utc_makes_them():
    from runtui.services.timetext import iso_utc

    halves = [T0 + n * 0.0005 for n in range(2000)]  # every other one on a rounding edge
    times = [*EDGE_TIMES, *MANY_TIMES, *halves, None]
    for name in ("started_iso", "ended_iso"):
        assert _time_texts(name, times) == [iso_utc(t) for t in times]


@pytest.mark.parametrize("zone", ["UTC", "Australia/Adelaide", "America/St_Johns"])
def test_local_start_times_are_the_local_minute(zone: str, monkeypatch: pytest.MonkeyPatch):
    # Half-hour offsets and summer time: the minute shown must be the local one.
    import time

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        # (SQLite takes a pre-1970 time's offset from another year: not a run's start.)
        times = [t for t in EDGE_TIMES if t >= 0] + [*MANY_TIMES, 1_711_814_400.0 + 60 * 30]
        expected = [time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) for t in times]
        assert _time_texts("started_local", times) == expected
    finally:
        monkeypatch.undo()
        time.tzset()


def test_listed_cells_of_every_kind_read_as_the_record_has_them(store_dir: Path):
    from runtui.store.export import metric_keys, read_snapshot, run_columns, select_runs
    from runtui.store.reader import open_store

    kinds = {"t": True, "f": False, "i": 7, "x": 2.5, "n": NAN, "s": "text", "j": [1, {"a": 2}],
             "none": None, "big": 2**70, "colon": "a:b"}  # fmt: skip
    add_run(store_dir, "all", params=kinds, metrics={"nan_last": [1.0, NAN], "inf": [INF]})
    add_run(store_dir, "few", started_at=T0 + 1, params={"i": 1}, metrics={"inf": [2.0]})
    store = open_store(store_dir)
    selection = select_runs(store, None, None)
    with read_snapshot(store.conn):
        metrics = {name: key_id for name, (key_id, _) in metric_keys(store.conn, selection).items()}
        data = run_columns(
            store.conn, selection, newest_first=False, params=sorted(kinds), metrics=metrics
        )
    for i, record in enumerate(store.runs(descending=False)):
        for key in kinds:
            expected = record.params.get(key)
            got = data.params[key][i]
            assert type(got) is type(expected) and (got == expected or same(got, expected)), key
        for name in metrics:
            summary = record.summary.get(name)
            got = data.lasts[name][i]
            assert (got is None) if summary is None else same(got, summary.last), name
