"""What the left side of a comparison names.

``status``, ``name``, ``started`` … are run fields (any case). ``params.X``,
``metrics.X[.last|.min|.max|.count]`` and ``tags.X`` name one param, metric or
tag; dots after the namespace belong to the name (``params.model.layers`` is
the param ``model.layers``). Anything else is a bare key: a param if the run
has it, else a metric. Quoting turns the special meaning off: ``"status"=x``
is the param ``status``, ``params."a.b"`` keeps the dot.
"""

from __future__ import annotations

from dataclasses import dataclass

from runtui.query.lexer import Piece

RUN_TEXT = {
    "name": "name",
    "experiment": "experiment",
    "exp": "experiment",
    "host": "host",
    "user": "user",
    "branch": "branch",
    "commit": "commit",
}
RUN_MOMENTS = frozenset({"started", "ended"})
RUN_AMOUNTS = frozenset({"duration", "age"})
RUN_FIELDS = frozenset(RUN_TEXT) | RUN_MOMENTS | RUN_AMOUNTS | {"status"}
NAMESPACES = {
    "params": "param",
    "param": "param",
    "metrics": "metric",
    "metric": "metric",
    "tags": "tag",
    "tag": "tag",
}
AGGREGATES = ("last", "min", "max", "count")


@dataclass(frozen=True)
class Field:
    """``kind`` is ``run``, ``param``, ``metric``, ``tag`` or ``key`` (bare key).

    ``name`` is the run field, or the param/metric/tag name; for a bare key,
    ``metric_name``/``agg`` are what to look for among metrics.
    """

    kind: str
    name: str
    agg: str = "last"
    metric_name: str = ""


def resolve(pieces: tuple[Piece, ...]) -> Field:
    """Classify a field word; an empty name after a namespace is returned as ``name=""``."""
    segments = _segments(pieces)
    first, first_quoted = segments[0]
    if len(segments) == 1:
        if not first_quoted and first.lower() in RUN_FIELDS:
            return Field("run", RUN_TEXT.get(first.lower(), first.lower()))
        return Field("key", first, metric_name=first)
    names = [text for text, _ in segments[1:]]
    namespace = NAMESPACES.get(first.lower()) if not first_quoted else None
    if namespace == "metric":
        name, agg = _split_agg(segments[1:])
        return Field("metric", name, agg)
    if namespace is not None:
        return Field(namespace, ".".join(names))
    key = ".".join(text for text, _ in segments)
    metric_name, agg = _split_agg(segments)
    return Field("key", key, agg, metric_name)


def _split_agg(segments: list[tuple[str, bool]]) -> tuple[str, str]:
    last, quoted = segments[-1]
    if len(segments) > 1 and not quoted and last.lower() in AGGREGATES:
        return ".".join(text for text, _ in segments[:-1]), last.lower()
    return ".".join(text for text, _ in segments), "last"


def _segments(pieces: tuple[Piece, ...]) -> list[tuple[str, bool]]:
    """Split on unquoted dots; a segment is quoted if any part of it was."""
    segments: list[list] = [["", False]]
    for piece in pieces:
        if piece.quoted:
            segments[-1][0] += piece.text
            segments[-1][1] = True
            continue
        first, *rest = piece.text.split(".")
        segments[-1][0] += first
        segments.extend([part, False] for part in rest)
    return [(text, quoted) for text, quoted in segments]
