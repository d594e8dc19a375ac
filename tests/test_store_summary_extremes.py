"""Series whose values defeat exact summation (+inf with -inf, overflow) still finish and list."""

from __future__ import annotations

import math
from pathlib import Path

import runtui


def test_opposite_infinities_and_huge_values_do_not_break_finish(store_dir: Path) -> None:
    with runtui.start_run("extremes", snapshot=False, capture_output=False) as run:
        for i in range(200):
            run.log({"inf": math.inf if i % 2 else -math.inf, "huge": 1e308})

    record = runtui.open_store().run(run.uuid)
    assert record.status == "completed"
    assert record.summary["inf"].count == 200
    assert (record.summary["inf"].min, record.summary["inf"].max) == (-math.inf, math.inf)
    assert record.summary["huge"].last == 1e308
    assert [v for _, _, v in record.history("inf")][:2] == [-math.inf, math.inf]
