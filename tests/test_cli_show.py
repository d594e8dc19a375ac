"""``runtui show RUN``: everything recorded about a run, for a person and for a script."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from cli_helpers import add_run, cli

import runtui


@pytest.fixture
def failed_run(store_dir: Path, tmp_path: Path) -> runtui.Run:
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"\x00" * 2048)
    run = runtui.start_run(
        "finetune",
        name="show-me",
        params={"lr": 3e-4, "layers": [2, 4]},
        tags={"team": "nlp"},
        snapshot=False,
        capture_output=False,
    )
    with pytest.raises(ZeroDivisionError), run:  # the run records the traceback
        run.log({"loss": 0.5, "acc": float("nan")}, step=3)
        run.log_artifact(weights)
        1 / 0  # noqa: B018
    return run


def test_text_shows_everything_recorded(failed_run: runtui.Run, store_dir: Path):
    result = cli("show", failed_run.id)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"run {failed_run.id}  show-me")
    for expected in (
        failed_run.uuid, "finetune", "failed", "lr", "0.0003", "[2, 4]", "team", "nlp",
        "loss", "acc", "nan", "3..3", "model.bin", "2.0 KB", "ZeroDivisionError",
        f"logs/{failed_run.uuid}.log", "command", "host", "python",
    ):  # fmt: skip
        assert expected in out, expected


def test_json_has_everything_and_reads_back(failed_run: runtui.Run, store_dir: Path):
    result = cli("show", "show-me", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["uuid"] == failed_run.uuid and doc["id"] == failed_run.id
    assert doc["status"] == "failed" and "ZeroDivisionError" in doc["error"]
    assert doc["params"] == {"lr": 3e-4, "layers": [2, 4]}
    assert doc["tags"] == {"team": "nlp"}
    assert doc["metrics"]["loss"]["last"] == 0.5
    assert doc["metrics"]["acc"]["last"] == "NaN" and math.isnan(float("NaN"))
    assert doc["metrics"]["loss"]["last_step"] == 3
    assert doc["started_at"].endswith("Z") and doc["ended_at"].endswith("Z")
    assert doc["artifacts"][0]["name"] == "model.bin" and doc["artifacts"][0]["size"] == 2048
    assert Path(doc["artifacts"][0]["path"]).read_bytes() == b"\x00" * 2048
    assert doc["log"] == str(store_dir / "logs" / f"{failed_run.uuid}.log")
    assert doc["command"] and doc["host"] and doc["python"]
    assert set(doc["git"]) == {"commit", "branch", "dirty", "diff"}


def test_markup_and_escapes_in_user_text_are_harmless(store_dir: Path):
    add_run(
        store_dir,
        "[bold]x[/]",
        params={"p": "[/]\x1b[2J"},
        error="boom [red]\x1b[31m",
        extra={"env": {"A": "[b]"}},
    )
    result = cli("show", "[bold]x[/]")
    assert result.exit_code == 0, result.stderr
    assert "run " in result.stdout and "[bold]x[/]" in result.stdout
    assert "[/]" in result.stdout and "boom [red]" in result.stdout and "[b]" in result.stdout
    assert "\x1b" not in result.stdout


def test_unknown_and_ambiguous_runs_are_one_line_errors(store_dir: Path):
    add_run(store_dir, "twin")
    add_run(store_dir, "twin")
    result = cli("show", "nobody")
    assert result.exit_code == 2
    assert result.stderr == "runtui: error: no run matches 'nobody'\n"
    result = cli("show", "twin")
    assert result.exit_code == 2 and "matches 2 runs" in result.stderr
    assert result.stderr.count("\n") == 1
    result = cli("show", "4c")  # too short to be taken as an id
    assert result.exit_code == 2
    assert result.stderr == (
        "runtui: error: no run matches '4c' (an id needs at least 4 characters)\n"
    )


def test_unknown_format(store_dir: Path):
    add_run(store_dir, "a")
    result = cli("show", "a", "--format", "yaml")
    assert result.exit_code == 2 and "unknown format 'yaml'" in result.stderr


def test_escape_sequences_in_keys_never_reach_the_terminal(store_dir: Path):
    add_run(
        store_dir,
        "keys",
        params={"lr\x1b]0;pwned\x07": 1},
        tags={"t\x1b]8;;http://evil\x07": "v"},
        extra={"env": {"E\x1b]0;title\x07": "x"}},
    )
    result = cli("show", "keys")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "pwned" not in result.stdout
    assert "evil" not in result.stdout and "title" not in result.stdout
    assert "  lr  1" in result.stdout


def test_text_shows_every_param_its_duration_and_command_as_a_person_reads_them(
    store_dir: Path,
):
    add_run(
        store_dir, "plain", duration=3488.0,
        params={"none": None, "empty": "", "lr": 0.1, "said_null": "null", "said_lr": "0.1"},
        extra={"command": ["train.py", "--name", "two words", "it's"]},
    )  # fmt: skip
    out = cli("show", "plain").stdout
    params = out.split("\nparams\n")[1].split("\n\n")[0].splitlines()
    assert [line.split() for line in params] == [
        ["empty", '""'], ["lr", "0.1"], ["none", "null"], ["said_lr", '"0.1"'],
        ["said_null", '"null"'],
    ]  # fmt: skip
    assert "  duration    58m 08s (3488.0 s)\n" in out
    assert "  command     train.py --name 'two words' 'it'\"'\"'s'\n" in out  # pastes into a shell


def test_text_says_how_big_the_code_snapshot_is(store_dir: Path, tmp_path: Path):
    code = tmp_path / "project"
    code.mkdir()
    (code / "train.py").write_text("print('hi')\n")
    (code / "util.py").write_text("x = 1\n")
    run = runtui.start_run("e", name="with-code", snapshot=code, capture_output=False)
    run.finish()
    out = cli("show", "with-code").stdout
    line = next(line for line in out.splitlines() if line.startswith("  code"))
    assert line.split(None, 1)[1] == f"2 files, 18 B (runtui checkout {run.id} DIR restores them)"
    assert cli("show", "with-code", "--format", "json").stdout.count('"files": 2') == 1
