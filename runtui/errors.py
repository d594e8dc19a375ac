"""Exceptions runtui raises on purpose.

Everything a user can cause (a bad ref, a bad filter, a store from a newer
version) is a `RuntuiError` whose message is one readable line; the CLI prints
it and exits 2, the TUI shows it. Anything else is a bug.
"""

from __future__ import annotations


class RuntuiError(Exception):
    """Base class: the message is meant for the user, one line."""


class StoreError(RuntuiError):
    """The store is missing, unreadable, corrupt, or not a runtui store."""


class StoreVersionError(StoreError):
    """The store was written by a newer runtui than this one."""


class RunNotFoundError(RuntuiError, LookupError):
    """No run matches a ref (uuid, short id or name)."""


class AmbiguousRunError(RuntuiError, LookupError):
    """More than one run matches a ref."""


class ParamConflictError(RuntuiError, ValueError):
    """A param was logged again with a different value."""


class QueryError(RuntuiError, ValueError):
    """A filter expression could not be parsed; `position` is 0-based."""

    def __init__(self, message: str, query: str = "", position: int = 0) -> None:
        self.query = query
        self.position = position
        self.reason = message
        super().__init__(f"{message} (at position {position + 1})" if query else message)
