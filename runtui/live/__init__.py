"""Live updates from a store, with no UI: see `feed.ChangeFeed`."""

from runtui.live.feed import ChangeFeed, Changes
from runtui.live.logtail import LogTail, LogUpdate

__all__ = ["ChangeFeed", "Changes", "LogTail", "LogUpdate"]
