"""The filter language, checked against a real store built with the logging API."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runtui
from runtui.errors import QueryError
from runtui.query import compile_filter, nodes, parse
from runtui.query.compiler import like_pattern
from runtui.query.parser import MAX_CONDITIONS, MAX_DEPTH
from runtui.store import connection, writer

HOSTILE = "[bold]x'; DROP TABLE runs; --"
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

# name: (experiment, params, tags, metrics as name -> values, status, started ago, ended ago)
RUNS = {
    "bert-base": (
        "finetune",
        {"lr": 1e-4, "optimizer": "adam", "batch_size": 32, "amp": True},
        {"team": "nlp", "baseline": ""},
        {"val_loss": [0.5, 0.2, 0.28], "acc": [0.7, 0.9]},
        "completed",
        1 * HOUR,
        30 * MINUTE,
    ),
    "BERT-large": (
        "finetune",
        {"lr": 3e-5, "optimizer": "sgd", "batch_size": 64, "amp": False},
        {"team": "vision"},
        {"val_loss": [0.4, 0.35]},
        "failed",
        2 * HOUR,
        110 * MINUTE,
    ),
    "roberta-text-lr": (
        "finetune",
        {"lr": "0.001", "optimizer": "adam w"},
        {"team": "nlp"},
        {"val_loss": [0.31, 0.24, 0.26]},
        "completed",
        5 * HOUR,
        2 * HOUR,
    ),
    "lr-schedule": (
        "pretrain",
        {"optimizer": "adam"},
        {},
        {"lr": [0.1, 0.01], "loss": [3.0, 2.0]},
        "completed",
        10 * MINUTE,
        5 * MINUTE,
    ),
    "gpt-live": (
        "pretrain",
        {"lr": 0.01, "seed": 7},
        {},
        {"val_loss": [1.0, math.nan], "loss": [4.0, 3.5]},
        "running",
        2 * HOUR,
        None,
    ),
    "old-run": (
        "pretrain",
        {"lr": 0.5},
        {"baseline": "v1"},
        {"loss": [1.0]},
        "completed",
        3 * DAY,
        3 * DAY - 2 * HOUR,
    ),
    HOSTILE: ("finetune", {"Übung": "größe"}, {}, {}, "completed", 1 * MINUTE, 0.0),
}
ALL = set(RUNS)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtui.Store]:
    folder = tmp_path_factory.mktemp("query") / "store"
    now = time.time()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("RUNTUI_RUN_ID", raising=False)
        uuids = {}
        for name, (experiment, params, tags, metrics, status, *_) in RUNS.items():
            run = runtui.start_run(
                experiment, name, params=params, tags=tags, store=folder,
                snapshot=False, capture_output=False,
            )  # fmt: skip
            for metric, points in metrics.items():
                for value in points:
                    run.log(metric, value)
            run.finish("completed" if status == "running" else status)
            uuids[name] = run.uuid
    conn = connection.connect(folder)
    for name, (*_, status, started, ended) in RUNS.items():
        row = writer.run_row_id(conn, uuids[name])
        writer.update_run(
            conn, row, status=status, started_at=now - started,
            ended_at=None if ended is None else now - ended,
        )  # fmt: skip
    conn.close()
    with runtui.open_store(folder) as opened:
        yield opened


def names(store: runtui.Store, query: str) -> set[str]:
    return {run.name for run in store.runs(filter=query)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=running", {"gpt-live"}),
        ("status=FAILED", {"BERT-large"}),
        ("status!=completed", {"gpt-live", "BERT-large"}),
        # a bare key: the param when the run has it (numeric compare only with numbers:
        # the text "0.001" of roberta does not count), else the metric's last value
        ("lr>=1e-4", {"bert-base", "gpt-live", "old-run", "lr-schedule"}),
        ("lr<0.05", {"bert-base", "BERT-large", "gpt-live", "lr-schedule"}),
        ("params.optimizer=adam", {"bert-base", "lr-schedule"}),
        ("params.optimizer='adam w'", {"roberta-text-lr"}),
        ("metrics.val_loss<0.3", {"bert-base", "roberta-text-lr"}),
        ("metrics.val_loss.min<0.25", {"bert-base", "roberta-text-lr"}),
        ("metrics.val_loss.max>=0.5", {"bert-base", "gpt-live"}),
        ("metrics.val_loss.last>0.3", {"BERT-large"}),
        ("metrics.loss.count=2", {"lr-schedule", "gpt-live"}),
        ("loss.min<=1.5", {"old-run"}),
        ("tags.team=nlp", {"bert-base", "roberta-text-lr"}),
        ("tag:baseline", {"bert-base", "old-run"}),
        ("param:seed", {"gpt-live"}),
        ("metric:acc", {"bert-base"}),
        ("name~bert", {"bert-base", "BERT-large", "roberta-text-lr"}),
        ("name!~BERT", ALL - {"bert-base", "BERT-large", "roberta-text-lr"}),
        ("name=bert-base", {"bert-base"}),
        ("name=BERT-BASE", set()),
        ("experiment=finetune", {"bert-base", "BERT-large", "roberta-text-lr", HOSTILE}),
        ("exp~pre", {"lr-schedule", "gpt-live", "old-run"}),
        ("started>2d", ALL - {"old-run"}),
        ("started<2d", {"old-run"}),
        ("age>2d", {"old-run"}),
        ("started>90m", {"bert-base", "lr-schedule", HOSTILE}),
        ("ended>1h", {"bert-base", "lr-schedule", HOSTILE}),
        ("duration>1h", {"roberta-text-lr", "gpt-live", "old-run"}),
        ("duration<=30m", {"bert-base", "BERT-large", "lr-schedule", HOSTILE}),
        ("duration>1h30m duration<2h30m", {"gpt-live", "old-run"}),
        ("bert", {"bert-base", "BERT-large", "roberta-text-lr"}),
        ("BERT large", {"BERT-large"}),
        ('"text-lr"', {"roberta-text-lr"}),
        ("", ALL),
    ],
)
def test_filters_select_the_expected_runs(store: runtui.Store, query: str, expected: set[str]):
    assert names(store, query) == expected
    assert store.count_runs(query) == len(expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # precedence: not > and > or
        ("bert or gpt live", {"bert-base", "BERT-large", "roberta-text-lr", "gpt-live"}),
        ("bert or gpt and not live", {"bert-base", "BERT-large", "roberta-text-lr"}),
        ("not bert or gpt", ALL - {"bert-base", "BERT-large", "roberta-text-lr"}),
        ("(bert or gpt) status=running", {"gpt-live"}),
        ("not (bert or gpt)", {"lr-schedule", "old-run", HOSTILE}),
        ("BERT AND large OR old-run", {"BERT-large", "old-run"}),
        ("tags.team=nlp not tag:baseline", {"roberta-text-lr"}),
    ],
)
def test_and_or_not_and_parentheses(store: runtui.Store, query: str, expected: set[str]):
    assert names(store, query) == expected


def test_numbers_compare_as_numbers_and_text_as_text(store: runtui.Store):
    assert names(store, "batch_size>9") == {"bert-base", "BERT-large"}  # 32 > 9 numerically
    assert names(store, "params.lr=0.001") == {"roberta-text-lr"}  # the text "0.001"
    assert names(store, "params.lr>0.0005") == {"gpt-live", "old-run"}  # not the text one
    assert names(store, 'params.lr="0.01"') == set()  # a quoted value is text
    assert names(store, "params.lr=1e-2") == {"gpt-live"}
    assert names(store, "params.optimizer>adam") == {"BERT-large", "roberta-text-lr"}
    assert names(store, "amp=true") == {"bert-base"}
    assert names(store, "amp=false") == {"BERT-large"}
    assert names(store, "params.Übung~GRÖ") == set()  # only ASCII letters fold
    assert names(store, "params.Übung~grö") == {HOSTILE}


def test_not_equal_needs_the_key_while_not_does_not(store: runtui.Store):
    assert names(store, "params.optimizer!=adam") == {"BERT-large", "roberta-text-lr"}
    assert names(store, "not params.optimizer=adam") == ALL - {"bert-base", "lr-schedule"}


def test_nan_metrics(store: runtui.Store):
    assert names(store, "metrics.val_loss=nan") == {"gpt-live"}
    with_val_loss = {"bert-base", "BERT-large", "roberta-text-lr", "gpt-live"}
    assert names(store, "metrics.val_loss!=nan") == with_val_loss - {"gpt-live"}
    assert "gpt-live" not in names(store, "metrics.val_loss<10")  # NaN never compares


def test_hostile_values_are_data(store: runtui.Store):
    assert names(store, f'"{HOSTILE}"') == {HOSTILE}
    assert names(store, "name='; DROP TABLE runs; --'") == set()
    assert names(store, 'params."x\'; DROP TABLE params; --"=1') == set()
    with pytest.raises(QueryError):
        store.runs(filter="'; DROP TABLE runs; --")
    assert len(store.runs()) == len(RUNS)
    assert names(store, "name~🚀 or 名前 or \x1b[2J") == set()
    assert names(store, 'name~"%" or "_" or x\\') == set()  # LIKE wildcards are literal here


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("lr>=", 4, "expected a value after '>='"),
        ("lr>= or x", 5, "expected a value after '>='"),
        ("status=runing", 7, "unknown status 'runing'; expected one of running, completed, failed"),
        ("status>running", 6, "compare status with = or !="),
        ("(bert", 5, "expected ')' to close '('"),
        ("bert)", 4, "unexpected ')'"),
        ("=3", 0, "expected a field name before '='"),
        ("bert or", 7, "expected a filter after 'or'"),
        ("or bert", 0, "expected a filter before 'or'"),
        ("bert and", 8, "expected a filter after 'and'"),
        ("not", 3, "expected a filter after 'not'"),
        ("()", 1, "expected a filter inside '(' ')'"),
        ('name="bert', 5, "unterminated string"),
        ("a !b", 2, "'!' must be followed by '=' or '~'"),
        ("metrics.loss~3", 12, "metrics are numbers"),
        ("metrics.loss>low", 13, "expected a number after '>'"),
        ("metrics.=1", 0, "expected a metric name after 'metrics.'"),
        ("metrics.", 8, "expected a metric name after 'metrics.'"),
        ("lr>1 params.", 12, "expected a param name after 'params.'"),
        ("tags. or x", 5, "expected a tag name after 'tags.'"),
        ("tag:", 4, "expected a tag name after 'tag:'"),
        ("started>yesterday", 8, "expected a time such as 2d"),
        ("started>5", 8, "expected a time such as 2d"),
        ("started=2d", 7, "compare started with <, <=, > or >="),
        ("duration>long", 9, "expected an amount of time"),
        ("lr>nan", 2, "NaN can only be compared with = or !="),
        ("status:running", 0, "use status=value"),
    ],
)
def test_errors_say_where_and_what_was_expected(query: str, position: int, message: str):
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert caught.value.position == position
    assert message in str(caught.value)
    assert caught.value.query == query
    assert "\n" not in str(caught.value)


def test_parse_gives_the_tree_the_ui_can_show():
    assert parse("   ") is None
    tree = parse("status==running tag:x or not name~'a b'")
    assert isinstance(tree, nodes.Or)
    first, second = tree.items
    assert first == nodes.And((nodes.Status("=", "running", 0), nodes.Has("tag", "x", 16)), 0)
    assert second == nodes.Not(nodes.RunText("name", "~", nodes.Value("a b", None, 34), 29), 25)
    when = parse("started>=2024-05-01T12:30")
    assert isinstance(when, nodes.RunTime) and isinstance(when.value, nodes.Moment)
    with pytest.raises(QueryError, match="expected a tag name"):
        parse("tag:or")


def test_bad_filter_through_the_store_is_a_query_error(store: runtui.Store):
    with pytest.raises(QueryError, match=r"expected a value after '>=' \(at position 5\)"):
        store.runs(filter="lr>=")


def test_started_reads_as_a_moment_and_now_is_injectable():
    sql, args = compile_filter("started>2d duration>1h", now=1_000_000.0)
    assert args == [1_000_000.0 - 2 * DAY, 1_000_000.0, 3600.0]
    assert "?" in sql and "1000000" not in sql
    _, args_date = compile_filter("started>=2024-05-01")
    assert args_date == [time.mktime((2024, 5, 1, 0, 0, 0, 0, 0, -1))]
    assert compile_filter("started>-2d", now=0.0)[1] == [-2 * DAY]


def test_hostile_sizes_fail_cleanly(store: runtui.Store):
    for query in (
        "(" * 10_000 + "a" + ")" * 10_000,
        "not " * 10_000 + "a",
        "a " * 4_000,
        "lr>1 or " * 1_000 + "lr>1",
        "a " * 1_000_000,
    ):
        started = time.perf_counter()
        with pytest.raises(QueryError, match=r"too deeply nested|too many conditions|too long"):
            store.runs(filter=query)
        # Refused before any real work (about 50 ms here): this only catches a runaway
        # (quadratic parsing would take minutes), not speed, so a loaded machine passes.
        assert time.perf_counter() - started < 5
    assert names(store, "x" * 9_000) == set()


@pytest.mark.parametrize(
    "shape",
    [
        "(a {inner})",  # parentheses around and-groups
        "(not {inner})",  # each level a parenthesis and a not
        "not {inner}",
        "(a or {inner})",
    ],
)
def test_the_largest_allowed_filters_run_in_sqlite(store: runtui.Store, shape: str):
    # the costliest condition (a bare key with !=) at the deepest nesting the parser allows,
    # inside the longest allowed chain: SQLite must still accept the statement
    worst = "lr!=1e9"
    query = worst
    while True:
        deeper = shape.format(inner=query)
        try:
            parse(deeper)
        except QueryError:
            break
        query = deeper
    depth = query.count("(") + query.count("not ")
    assert MAX_DEPTH - 2 <= depth <= MAX_DEPTH
    room = MAX_CONDITIONS - query.count(worst) - query.count("a ")
    query = " or ".join([worst] * room + [query])
    assert "bert-base" in names(store, query)


# -- nothing a user types reaches the SQL text ------------------------------------------------

SQL_WORDS = {
    *("SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "IS", "NULL", "EXISTS"),
    *("LIKE", "ESCAPE", "coalesce", "typeof", "r", "e", "p", "t", "s", "k"),
    *("id", "run_id", "key", "key_id", "value", "kind", "name", "status", "started_at"),
    *("ended_at", "host", "user", "git_branch", "git_commit", "params", "tags"),
    *("metric_summary", "metric_keys", "last", "min", "max", "count"),
}
SQL_STRINGS = {"''", "'integer'", "'real'", "'text'", "'float'", "'\\'"}
SQL_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_01 (),.?=!<>+-'\\")


def assert_only_placeholders(sql: str, args: list) -> None:
    strings = re.findall(r"'[^']*'", sql)
    assert set(strings) <= SQL_STRINGS, strings
    bare = re.sub(r"'[^']*'", "", sql)
    assert set(bare) <= SQL_CHARS, set(bare) - SQL_CHARS
    assert set(re.findall(r"[A-Za-z_]+", bare)) <= SQL_WORDS
    assert bare.count("?") == len(args)


FRAGMENTS = [
    " ", " ", " ", "(", ")", "=", "!=", "<", ">=", "~", "!~", ":", "!", ".", '"', "'", "\\",
    "not ", " or ", " and ", "status", "running", "lr", "1e-4", "-3", "nan", "inf", "true",
    "params.", "metrics.", "tags.", ".min", ".count", "tag", "param", "metric", "name", "exp",
    "started", "duration", "age", "2d", "1h30m", "2024-05-01", "'; DROP TABLE runs; --",
    "ü", "名", "🚀", "\x00", "\x1b[2J", "\udcff", "%", "_", "*", "?", ";",
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=14).map("".join))
def test_random_text_is_an_error_or_safe_sql(store: runtui.Store, text: str) -> None:
    try:
        sql, args = compile_filter(text)
    except QueryError as error:
        assert 0 <= error.position <= len(text)
        assert "\n" not in error.reason
        return
    assert_only_placeholders(sql, args)
    store.count_runs(text)  # SQLite accepts it


KEYS = st.text(min_size=1, max_size=12)
VALUES = st.text(max_size=12)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def structured(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """A filter of random keys and values, the same filter with every key and value
    replaced by ``x``, and the keys and values it contains."""
    forms = {
        "param": "params.{key}{op}{value}",
        "tag": "tags.{key}{op}{value}",
        "bare": "{key}{op}{value}",
        "has": "{kind}:{key}",
        "name": "name{op}{value}",
        "word": "{value}",
    }
    parts, neutral, literals = [], [], []
    for _ in range(draw(st.integers(1, 5))):
        key, value = draw(KEYS), draw(VALUES)
        op = draw(st.sampled_from(["=", "!=", "<", ">=", "~", "!~"]))
        kind = draw(st.sampled_from(["tag", "param", "metric"]))
        form = forms[draw(st.sampled_from(sorted(forms)))]
        parts.append(form.format(key=quote(key), op=op, value=quote(value), kind=kind))
        neutral.append(form.format(key=quote("x"), op=op, value=quote("x"), kind=kind))
        literals += [key] * ("{key}" in form) + [value] * ("{value}" in form)
    joiner = draw(st.sampled_from([" ", " or ", " and not "]))
    return joiner.join(parts), joiner.join(neutral), literals


@settings(max_examples=80, deadline=None)
@given(structured())
def test_keys_and_values_only_travel_as_parameters(store: runtui.Store, case) -> None:
    text, neutral, literals = case
    sql, args = compile_filter(text)
    assert_only_placeholders(sql, args)
    for literal in literals:
        assert literal in args or like_pattern(literal) in args
    # the SQL text depends on the filter's shape only: same shape, other words, same SQL
    assert compile_filter(neutral)[0] == sql
    store.count_runs(text)


def test_every_filter_in_the_readme_parses():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Filters (`--filter`, `/` in the UI)", 1)[1].split("\n### ", 1)[0]
    examples = re.findall(r"--filter '([^']+)'", section)
    for row in re.findall(r"^\| (.+?) \|", section, re.MULTILINE)[2:]:
        examples += re.findall(r"`([^`]+)`", row)
    assert len(examples) > 20
    for example in examples:
        parse(example)
