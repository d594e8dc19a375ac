"""The rows behind the runs table: one view (experiment, filter, sort) paged from the store.

`RunSource` keeps the ordered row ids of the whole view (integers: cheap even
for 100,000 runs) and full records only for pages that were looked at, in a
bounded cache. Changing the filter or the sort re-reads the ids only; the
records on screen are fetched on demand, a page at a time. No Textual here:
the widget renders what this hands it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from runtui.store import tableview
from runtui.store.reader import Store
from runtui.store.records import RunRecord
from runtui.store.tableview import KeyStats, SortKey

PAGE = 50
CACHE_PAGES = 40


@dataclass(frozen=True)
class View:
    """What the table shows: which runs, in which order."""

    experiment: str | None = None
    filter: str = ""
    sort: SortKey = field(default_factory=SortKey)
    descending: bool = True


class RunSource:
    """Ordered ids of a `View` plus a bounded cache of the records looked at."""

    def __init__(self, store: Store, view: View | None = None) -> None:
        self.store = store
        self.view = view or View()
        self.ids: list[int] = []
        self._cache: OrderedDict[int, RunRecord] = OrderedDict()

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, view: View | None = None) -> None:
        """Re-read the ordered ids for ``view`` (default: the current one).

        Raises `QueryError` for a bad filter, leaving the previous rows in place.
        """
        view = view or self.view
        ids = tableview.run_ids(
            self.store, view.filter or None, view.experiment, view.sort, view.descending
        )
        self.view = view
        self.ids = ids

    def update_records(self, records: Iterable[RunRecord]) -> None:
        """Swap in newer records of runs that changed (live updates); uncached ones load later."""
        for record in records:
            if record.row_id in self._cache:
                self._cache[record.row_id] = record

    def with_view(self, **changes: object) -> View:
        return replace(self.view, **changes)  # type: ignore[arg-type]

    def position(self, row_id: int) -> int | None:
        """Where a run is in the current order, or None if the view does not contain it.

        A scan of the ids (about 50 µs for 10,000 runs) rather than an index
        built after every load: most loads ask for one position only.
        """
        try:
            return self.ids.index(row_id)
        except ValueError:
            return None

    def record(self, index: int) -> RunRecord | None:
        """The run at ``index``, fetching its page if needed."""
        if not 0 <= index < len(self.ids):
            return None
        row_id = self.ids[index]
        record = self._cache.get(row_id)
        if record is None:
            self._fetch_page(index // PAGE)
            record = self._cache.get(row_id)
        else:
            self._cache.move_to_end(row_id)
        return record

    def records(self, start: int, stop: int) -> list[RunRecord]:
        """Runs at positions ``start``..``stop`` (exclusive) that exist."""
        out = []
        for i in range(max(0, start), min(stop, len(self.ids))):
            record = self.record(i)
            if record is not None:
                out.append(record)
        return out

    def _fetch_page(self, page: int) -> None:
        wanted = [i for i in self.ids[page * PAGE : (page + 1) * PAGE] if i not in self._cache]
        for row_id, record in tableview.records_by_ids(self.store, wanted).items():
            self._cache[row_id] = record
        while len(self._cache) > PAGE * CACHE_PAGES:
            self._cache.popitem(last=False)

    def param_stats(self) -> list[KeyStats]:
        return tableview.param_stats(self.store, self.view.filter or None, self.view.experiment)

    def metric_stats(self) -> list[KeyStats]:
        return tableview.metric_stats(self.store, self.view.filter or None, self.view.experiment)
