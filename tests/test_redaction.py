"""Secrets in a run's recorded environment and command line are stored as ***."""

from __future__ import annotations

import pytest

from runtui.tracking.context import process_context


def test_password_names_and_url_credentials_are_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASS", "hunter2")
    monkeypatch.setenv("DB_PWD", "hunter3")
    monkeypatch.setenv("PWD", "/home/bob/code")
    monkeypatch.setenv("OLDPWD", "/home/bob")
    monkeypatch.setenv("HTTPS_PROXY", "http://bob:s3cret@proxy:3128")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pa55@db.internal/runs")
    monkeypatch.setenv("PIP_INDEX_URL", "https://u:tok@pypi.example/simple https://x:y@b/s")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example")  # nothing to hide
    monkeypatch.setenv("NOTE", "mail bob@example.com")
    env = process_context([])["env"]
    assert env["DB_PASS"] == "***" and env["DB_PWD"] == "***"
    assert env["PWD"] == "/home/bob/code" and env["OLDPWD"] == "/home/bob"
    assert env["HTTPS_PROXY"] == "http://bob:***@proxy:3128"
    assert env["DATABASE_URL"] == "postgresql://app:***@db.internal/runs"
    assert env["PIP_INDEX_URL"] == "https://u:***@pypi.example/simple https://x:***@b/s"
    assert env["MLFLOW_TRACKING_URI"] == "https://mlflow.example"
    assert env["NOTE"] == "mail bob@example.com"
    assert "s3cret" not in str(env) and "pa55" not in str(env)


def test_url_credentials_in_arguments_are_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = [
        "train.py",
        "--db",
        "mysql://root:toor@localhost/x",
        "--url=https://a:b@h/",
        "--db-pass",
        "p",
    ]
    assert process_context(argv)["command"] == [
        "train.py", "--db", "mysql://root:***@localhost/x", "--url=https://a:***@h/",
        "--db-pass", "***",
    ]  # fmt: skip
    monkeypatch.setenv("RUNTUI_NO_REDACT", "1")
    assert process_context(argv)["command"] == argv
