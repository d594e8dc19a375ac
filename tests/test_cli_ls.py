"""``runtui ls``: what a person sees in the table, what a script parses, how it fails."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import T0, add_run, cli, cli_process

from runtui.cli.output import use_color


@pytest.fixture
def three_runs(store_dir: Path) -> Path:
    add_run(
        store_dir, "alpha", experiment="finetune", started_at=T0,
        params={"lr": 0.1, "batch": 32, "opt": "adam"},
        metrics={"loss": [1.0, 0.5], "acc": [0.2, 0.7]},
    )  # fmt: skip
    add_run(
        store_dir, "beta", experiment="finetune", started_at=T0 + 100, status="failed",
        params={"lr": 0.01, "batch": 32, "opt": "adam"}, metrics={"loss": [1.0, 0.25]},
    )  # fmt: skip
    add_run(
        store_dir, "gamma", experiment="pretrain", started_at=T0 + 200, duration=3725,
        params={"lr": 0.001, "batch": 32},
        metrics={"loss": [float("nan")], "acc": [float("inf")]},
    )  # fmt: skip
    return store_dir


def test_table_lists_runs_newest_first_with_varying_params_and_last_values(three_runs: Path):
    result = cli("ls")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert header[:6] == ["id", "name", "experiment", "status", "started", "duration"]
    assert "lr" in header and "opt" in header  # differ between runs
    assert "batch" not in header  # the same everywhere
    assert {"loss", "acc"} <= set(header)
    names = [line.split()[1] for line in lines[1:]]
    assert names == ["gamma", "beta", "alpha"]
    gamma = lines[1]
    assert "1h02m" in gamma and "nan" in gamma and "inf" in gamma
    assert "0.25" in lines[2] and "failed" in lines[2]


def test_experiment_and_filter_select_runs(three_runs: Path):
    result = cli("ls", "--experiment", "finetune", "--format", "jsonl")
    assert [json.loads(line)["name"] for line in result.stdout.splitlines()] == ["beta", "alpha"]
    result = cli("ls", "--filter", "lr<0.05 status=completed", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["name"] for line in result.stdout.splitlines()] == ["gamma"]


def test_user_text_is_shown_literally_and_safely(store_dir: Path):
    add_run(store_dir, "[bold]x[/]", params={"note": "[red]"})
    add_run(store_dir, "evil\x1b]0;pwned\x07\x1b[31mred", started_at=T0 + 1, params={"note": "n"})
    result = cli("ls")
    assert result.exit_code == 0
    assert "[bold]x[/]" in result.stdout and "[red]" in result.stdout
    assert "\x1b" not in result.stdout and "pwned" not in result.stdout
    assert "evilred" in result.stdout


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "markdown"])
def test_every_format_carries_the_same_rows(three_runs: Path, fmt: str):
    result = cli("ls", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    elif fmt == "json":
        rows = json.loads(text)
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
    else:
        lines = [line.strip("|").split("|") for line in text.splitlines()]
        keys = [c.strip() for c in lines[0]]
        assert set(lines[1]) == {"---"}
        rows = [dict(zip(keys, (c.strip() for c in line), strict=True)) for line in lines[2:]]
    assert [r["name"] for r in rows] == ["gamma", "beta", "alpha"]
    gamma = rows[0]
    assert gamma["started"] == "2023-11-14T22:16:40.000Z"
    assert float(gamma["duration"]) == 3725.0
    assert math.isnan(float(gamma["metrics.loss"]))
    assert float(gamma["metrics.acc"]) == math.inf
    assert float(rows[1]["params.lr"]) == 0.01
    if fmt in ("json", "jsonl"):
        assert gamma["metrics.loss"] == "NaN" and gamma["metrics.acc"] == "Infinity"
        assert gamma["params.opt"] is None  # absent


def test_no_runs_is_not_an_error(three_runs: Path):
    result = cli("ls", "--filter", "name=nobody")
    assert result.exit_code == 0
    assert result.stdout == "" and "no runs match" in result.stderr
    assert cli("ls", "--filter", "name=nobody", "--format", "json").stdout.strip() == "[]"


def test_bad_filter_is_one_line_with_its_position(three_runs: Path):
    result = cli("ls", "--filter", "lr>=")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "position" in result.stderr


def test_unknown_format_is_a_usage_error(three_runs: Path):
    result = cli("ls", "--format", "xml")
    assert result.exit_code == 2
    assert result.stderr == "runtui: error: unknown format 'xml' (choose from table, csv, json, " \
        "jsonl, markdown)\n"  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lss"], "No such command 'lss' (see 'runtui --help')"),
        (["ls", "--formt", "csv"], "No such option '--formt'. Did you mean '--format'? "
         "(see 'runtui ls --help')"),
        (["show"], "Missing argument 'RUN' (see 'runtui show --help')"),
        (["tail", "x", "-n", "-1"], "Invalid value for '-n' / '--lines': -1 is not in the "
         "range x>=0 (see 'runtui tail --help')"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_too(args: list[str], message: str):
    done = cli_process(*args)
    assert done.returncode == 2
    assert done.stdout == "" and done.stderr == f"runtui: error: {message}\n"


@pytest.mark.parametrize(
    "attempt",
    [
        'name="x\' OR 1=1 --"',
        "name~'; DROP TABLE runs; --",
        'params.lr="1; DELETE FROM runs"',
        "tags.\"a') OR ('1'='1\"=x",
    ],
)
def test_filter_text_never_reaches_sql(three_runs: Path, attempt: str):
    result = cli("ls", "--filter", attempt, "--format", "json")
    assert result.exit_code in (0, 2)
    if result.exit_code == 0:
        assert json.loads(result.stdout) == []
    assert len(json.loads(cli("ls", "--format", "json").stdout)) == 3


def test_experiment_text_never_reaches_sql(three_runs: Path):
    result = cli("ls", "--experiment", "x' OR '1'='1", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_missing_store_is_one_line(tmp_path: Path):
    result = cli("ls", "--store", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert result.stderr.startswith("runtui: error: no runtui store at")


def test_corrupt_store_is_one_line_without_traceback(tmp_path: Path):
    store = tmp_path / "broken"
    store.mkdir()
    (store / "runtui.db").write_bytes(b"this is not sqlite at all \x00\xff" * 200)
    for command in (["ls"], ["show", "x"], ["export"], ["rm", "x", "--yes"], ["gc"]):
        done = cli_process("--store", str(store), *command)
        assert done.returncode == 2, (command, done.stderr)
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("runtui: error:") and done.stderr.count("\n") == 1


def test_a_database_emptied_beside_its_logs_is_refused_not_made_anew(store_dir: Path):
    add_run(store_dir, "lost")
    (store_dir / "logs").mkdir(exist_ok=True)
    (store_dir / "logs" / "run.log").write_text("epoch 1\n")
    for suffix in ("", "-wal", "-shm"):
        (store_dir / f"runtui.db{suffix}").unlink(missing_ok=True)
    (store_dir / "runtui.db").write_bytes(b"")
    for command in (["ls"], ["gc"]):
        result = cli(*command)
        assert result.exit_code == 2 and "is empty (0 bytes)" in result.stderr
        assert result.stderr.count("\n") == 1
    assert (store_dir / "runtui.db").stat().st_size == 0  # left as found


def test_color_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(Tty())
    assert not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())


def test_help_does_not_load_the_tui():
    code = (
        "import sys\nfrom runtui.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('textual', 'rich') if m in sys.modules))"
    )
    done = __import__("subprocess").run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_escape_sequences_in_param_and_metric_names_never_reach_the_terminal(store_dir: Path):
    add_run(store_dir, "a", params={"lr\x1b]0;pwned\x07": 1}, metrics={"loss\x1b[2J": [0.5]})
    add_run(store_dir, "b", started_at=T0 + 1, params={"lr\x1b]0;pwned\x07": 2})
    result = cli("ls")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "pwned" not in result.stdout
    header = result.stdout.splitlines()[0].split()
    assert "lr" in header and "loss" in header


def test_a_read_only_listing_shows_a_dead_running_run_as_crashed(store_dir: Path):
    # A writable open marks dead runs; a read-only one cannot, and must still say so.
    add_run(store_dir, "done", started_at=T0)
    add_run(store_dir, "dead", started_at=T0 + 1, status="running")  # heartbeat long ago
    add_run(
        store_dir, "alive", started_at=T0 + 2, status="running",
        extra={"heartbeat_at": time.time()},
    )  # fmt: skip
    from runtui.services.export import listing, runs_table
    from runtui.store.reader import open_store

    store = open_store(store_dir, readonly=True)
    shown = listing(store, None, None)
    assert dict(zip(shown.column_values()[1], shown.column_values()[3], strict=True)) == {
        "done": "completed", "dead": "crashed", "alive": "running",
    }  # fmt: skip
    exported = runs_table(store, None, None)
    columns = next(exported.chunks)
    assert list(columns[exported.columns.index("status")]) == ["completed", "crashed", "running"]


def test_table_durations_read_as_the_tui_writes_them(store_dir: Path):
    from runtui.services.export import listing
    from runtui.services.units import format_duration
    from runtui.store.reader import open_store

    lasted = [0, 0.9, 59.99, 60, 605, 3599, 3600, 3725, 86399, 86400, 200_000, 10**7]
    for n, seconds in enumerate(lasted):
        add_run(store_dir, f"r{n}", started_at=T0 + n, duration=seconds)
    add_run(store_dir, "on", started_at=time.time() - 125, status="running",
            extra={"heartbeat_at": time.time()})  # fmt: skip
    shown = listing(open_store(store_dir), None, None, local_times=True).column_values()
    texts = dict(zip(shown[1], shown[5], strict=True))
    assert [texts[f"r{n}"] for n in range(len(lasted))] == [
        format_duration(s).replace(" ", "") for s in lasted
    ]
    assert texts["on"] in ("2m05s", "2m06s")  # still running: up to now
