"""What caused the work in hand: the correlation id of the whole conversation and the id of the
event (if any) that caused it. Set once at the edge (the HTTP middleware from `X-Correlation-ID`,
the consumer from the envelope it applies) and read where events are staged, so no use case
threads these ids through its signature."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Causation:
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None


_NONE = Causation()
_current: ContextVar[Causation | None] = ContextVar("portal_causation", default=None)


def current() -> Causation:
    return _current.get() or _NONE


@contextlib.contextmanager
def caused_by(correlation_id: uuid.UUID | None, causation_id: uuid.UUID | None = None) -> Iterator[Causation]:
    token = _current.set(Causation(correlation_id, causation_id))
    try:
        yield current()
    finally:
        _current.reset(token)


def set_for_request(correlation_id: uuid.UUID) -> None:
    """For the HTTP middleware: the request's task owns its context, nothing to reset."""
    _current.set(Causation(correlation_id, None))
