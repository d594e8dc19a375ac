"""Waking the live feed: file events in the store folder, or a steady tick.

Measured (see LIBRARY-NOTES 4.2): in WAL mode a commit touches only
``runtui.db-wal``, never ``runtui.db``, so the folder is watched (not single
files, which also stop being watched once replaced), non-recursively, plus
``logs/``. The watcher yields a `Wake` for every batch of events and, with
no events, every ``interval`` seconds: that tick is when the feed runs its
``PRAGMA data_version`` check, the trigger that works even when file events
never come (network filesystems, containers, WSL's forced polling).

If the folder cannot be watched at all (inotify limits, a filesystem without
notifications), `StoreWatcher` keeps ticking and says so in `events_ok`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from runtui.store import location

# The watcher's Rust thread wakes every STEP_MS to look for events: idle CPU
# measured 0.7 % of a core at 10 ms, 0.4 % at 20, 0.2 % at 50 (bench_live),
# for a median delivery latency of ~30 ms at 20 and ~70 ms at 50.
STEP_MS = 50
DEBOUNCE_MS = 100  # upper bound on gathering a burst of events (watchfiles default: 1600)


class StopSignal(Protocol):
    """What stops the watcher: a `threading.Event` or anything that acts like one."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float) -> bool: ...


@dataclass
class Wake:
    """Why the feed woke: the WAL changed, which logs changed (run uuids), or just the tick.

    ``all_logs``: any log may have changed unseen (``logs/`` just started being watched).
    """

    db: bool = False
    logs: set[str] = field(default_factory=set)
    all_logs: bool = False


def _forced_polling(force_polling: bool | None) -> bool:
    if force_polling is not None:
        return force_polling
    if os.environ.get("WATCHFILES_FORCE_POLLING"):
        return True
    try:
        return "microsoft-standard" in os.uname().release  # watchfiles polls under WSL
    except AttributeError:
        return False


class StoreWatcher:
    def __init__(
        self, store: Path, interval: float = 0.25, *, force_polling: bool | None = None
    ) -> None:
        self.store = store
        self.logs_dir = store / location.LOGS_DIRNAME
        self.wal_name = location.DB_FILENAME + "-wal"
        self.interval = interval
        self.polling = _forced_polling(force_polling)
        self.failed: str | None = None  # why the folder could not be watched, if so

    @property
    def events_ok(self) -> bool:
        """True while native file events are expected to arrive."""
        return not self.polling and self.failed is None

    def wakes(self, stop: StopSignal) -> Iterator[Wake]:
        """Yield until ``stop`` is set (checked at least every ``interval``)."""
        while not stop.is_set():
            if self.failed is not None:
                stop.wait(self.interval)
                if not stop.is_set():
                    yield Wake()
                continue
            try:
                yield from self._watch(stop)
            except (OSError, RuntimeError) as exc:  # e.g. inotify watch limit reached
                self.failed = str(exc) or type(exc).__name__

    def _watch(self, stop: StopSignal) -> Iterator[Wake]:
        from watchfiles import watch

        with_logs = self.logs_dir.is_dir()
        paths = [self.store, self.logs_dir] if with_logs else [self.store]
        for changes in watch(
            *paths,
            watch_filter=None,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=stop,
            rust_timeout=max(1, int(self.interval * 1000)),
            yield_on_timeout=True,
            force_polling=self.polling,
            recursive=False,
            raise_interrupt=True,
        ):
            wake = Wake()
            restart = False
            for _change, raw in changes:
                path = Path(raw)
                if path.parent == self.logs_dir and path.suffix == ".log":
                    wake.logs.add(path.stem)
                elif path.name == self.wal_name:
                    wake.db = True
                elif path == self.logs_dir and not with_logs:
                    restart = wake.all_logs = True  # logs/ appeared: watch it too
            yield wake
            if restart or stop.is_set():
                return
