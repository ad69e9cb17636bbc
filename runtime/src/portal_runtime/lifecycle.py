"""One lifecycle style for every aggregate with states. Standard library only (with
`portal_runtime.errors`), so that a domain may import it.

A lifecycle is a transition table: (from status, action) → to status. `Lifecycle.move` checks a
move against it, raising `InvalidTransition` (409 with `current_status`) when the table has no
such move, and answers the one history row shape every aggregate records:
`Transition(at, by, from_status, to_status, note)`. The aggregate raises its typed domain event
beside it; nothing infers later from a status pair which event happened.

    LIFECYCLE = Lifecycle({(Status.DRAFT, "submit"): Status.SUBMITTED, ...})
    step = LIFECYCLE.move(self.status, "submit", by=by, at=now)
    self.status = step.to_status
    self.history.append(step)
    self.events.append(RequestSubmitted(...))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from portal_runtime.errors import Conflict

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Transition(Generic[S]):
    at: datetime
    by: str
    from_status: S | None
    to_status: S
    note: str | None = None


class InvalidTransition(Conflict):
    """The current status has no such move; answered 409 with `current_status`."""

    def __init__(self, kind: str, action: str, current: StrEnum) -> None:
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        super().__init__(f"cannot {action} {article} {kind} that is {current}", current_status=str(current))
        self.action = action
        self.current_status = current


class Lifecycle(Generic[S]):
    def __init__(self, kind: str, table: Mapping[tuple[S, str], S]) -> None:
        self.kind = kind
        self.table = dict(table)

    def allows(self, current: S, action: str) -> bool:
        return (current, action) in self.table

    def actions(self) -> set[str]:
        return {action for _, action in self.table}

    def target(self, current: S, action: str) -> S:
        try:
            return self.table[(current, action)]
        except KeyError:
            raise InvalidTransition(self.kind, action, current) from None

    def move(self, current: S, action: str, *, by: str, at: datetime, note: str | None = None) -> Transition[S]:
        return Transition(at=at, by=by, from_status=current, to_status=self.target(current, action), note=note)

    def begin(self, status: S, *, by: str, at: datetime, note: str | None = None) -> Transition[S]:
        """The first history row of a new aggregate (no from_status)."""
        return Transition(at=at, by=by, from_status=None, to_status=status, note=note)
