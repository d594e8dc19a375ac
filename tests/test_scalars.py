"""``--scalars``: numbers printed by a script become metrics."""

from __future__ import annotations

import math

import pytest

from runtui.errors import RuntuiError
from runtui.services.scalars import ScalarParser


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("epoch=1, batch= 2000: loss 2.19", {"epoch": 1, "batch": 2000, "loss": 2.19}),
        ("loss: 0.53", {"loss": 0.53}),
        ("acc=0.91", {"acc": 0.91}),
        ("[1,  2000] loss: 2.190", {"loss": 2.19}),
        ("val/loss: 0.3 | train.acc: 91.2% | lr=1e-4", {"val/loss": 0.3, "train.acc": 91.2,
                                                         "lr": 1e-4}),
        ("step 10: loss=0.5", {"step": 10, "loss": 0.5}),
        ("\x1b[32mloss=0.25\x1b[0m", {"loss": 0.25}),
        ("Epoch 1 of 10", {}),  # prose without = or : is left alone
        ("started at 12:30:45", {}),
        ("version=1.2.3", {}),
        ("loss: 0.5.", {"loss": 0.5}),  # a full stop ends the number
        ("", {}),
    ],
)  # fmt: skip
def test_default_patterns(line: str, expected: dict[str, float]) -> None:
    assert ScalarParser().parse(line) == expected


def test_nan_and_inf_are_values() -> None:
    got = ScalarParser().parse("loss=nan grad=inf low=-inf")
    assert math.isnan(got["loss"]) and got["grad"] == math.inf and got["low"] == -math.inf


def test_regex_with_name_and_value_groups() -> None:
    parser = ScalarParser(r"(?P<name>\w+)\s*->\s*(?P<value>[\d.]+)")
    assert parser.parse("loss -> 0.5, acc -> 0.9 ; x = 3") == {"loss": 0.5, "acc": 0.9}


def test_regex_with_one_group_per_metric() -> None:
    parser = ScalarParser(r"Iter (?P<iter>\d+) \| (?P<loss>[\d.]+)")
    assert parser.parse("Iter 40 | 0.125") == {"iter": 40, "loss": 0.125}
    assert parser.parse("nothing here") == {}


@pytest.mark.parametrize("regex", ["(", r"\d+"])
def test_bad_regex_is_a_clear_error(regex: str) -> None:
    with pytest.raises(RuntuiError, match="--scalars-regex"):
        ScalarParser(regex)


def test_a_group_that_is_not_a_number_is_ignored() -> None:
    assert ScalarParser(r"(?P<word>[a-z]+)x (?P<n>\d+)").parse("abcx 3") == {"n": 3}
