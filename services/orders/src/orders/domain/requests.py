"""A service request: the additional services a customer asks for, from draft to active.

    draft → submitted | discarded
    submitted → approved | rejected | information_requested
    information_requested → submitted           (the customer answers)
    approved → active                           (on payment)

Anything else is a Conflict naming the current status, and nothing changes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from orders.domain.offers import Offer
from orders.domain.pricing import PricedLine, Summary, price, summarise
from portal_runtime.errors import Conflict, InvalidInput, NotFound

DRAFT, SUBMITTED, DISCARDED = "draft", "submitted", "discarded"
INFORMATION_REQUESTED, APPROVED, REJECTED, ACTIVE = "information_requested", "approved", "rejected", "active"
STATUSES = (DRAFT, SUBMITTED, DISCARDED, INFORMATION_REQUESTED, APPROVED, REJECTED, ACTIVE)

TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({SUBMITTED, DISCARDED}),
    SUBMITTED: frozenset({APPROVED, REJECTED, INFORMATION_REQUESTED}),
    # an admin may also close a request whose question was never answered
    INFORMATION_REQUESTED: frozenset({SUBMITTED, REJECTED}),
    APPROVED: frozenset({ACTIVE}),
}
MAX_LINES = 50
MAX_QUANTITY = 1000
MAX_TEXT = 2000


@dataclass(frozen=True)
class Transition:
    at: datetime
    by: str
    from_status: str | None
    to_status: str
    note: str | None = None


@dataclass
class Line:
    item_id: uuid.UUID
    quantity: int
    frozen: PricedLine | None = None  # name and price fixed at submission


def _text(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{name} must not be empty", field=name)
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{name} is longer than {MAX_TEXT} characters", field=name)
    return value


@dataclass
class ServiceRequest:
    id: uuid.UUID
    account_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    lines: list[Line] = field(default_factory=list)
    new_history: list[Transition] = field(default_factory=list, repr=False)  # not stored yet
    changes: list[Transition] = field(default_factory=list, repr=False)  # not published yet

    @classmethod
    def create(cls, account_id: str, *, by: str, now: datetime) -> ServiceRequest:
        request = cls(id=uuid.uuid4(), account_id=account_id, status=DRAFT, created_at=now, updated_at=now)
        request.new_history.append(Transition(now, by, None, DRAFT))
        return request

    # -- who may see it ------------------------------------------------------------------
    def visible_to(self, account_id: str, *, is_admin: bool = False) -> bool:
        return is_admin or self.account_id == account_id

    # -- lines (draft only) --------------------------------------------------------------
    def set_line(
        self, item_id: uuid.UUID, quantity: int, offers: Mapping[uuid.UUID, Offer], *, field: str = "item_id"
    ) -> None:
        self._editable()
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidInput(f"quantity must be between 1 and {MAX_QUANTITY}", field="quantity")
        offer = offers.get(item_id)
        if offer is None or not offer.is_offered:
            raise InvalidInput(f"item {item_id} is not offered", field=field, item_id=str(item_id))
        for other in self.lines:
            known = offers.get(other.item_id)
            if other.item_id != item_id and known and known.is_offered and known.currency != offer.currency:
                raise InvalidInput(
                    f"a request has one currency ({known.currency}); item {item_id} is in {offer.currency}",
                    field=field,
                    item_id=str(item_id),
                )
        line = self._line(item_id)
        if line is not None:
            line.quantity = quantity
        elif len(self.lines) >= MAX_LINES:
            raise InvalidInput(f"a request has at most {MAX_LINES} lines", field="lines")
        else:
            self.lines.append(Line(item_id, quantity))

    def remove_line(self, item_id: uuid.UUID) -> None:
        self._editable()
        line = self._line(item_id)
        if line is None:
            raise NotFound(f"the request has no line for item {item_id}", field="item_id")
        self.lines.remove(line)

    def summary(self, offers: Mapping[uuid.UUID, Offer]) -> Summary:
        """Frozen prices once submitted; the current offers while a draft."""
        if self.lines and all(line.frozen for line in self.lines):
            return summarise([line.frozen for line in self.lines])
        return price([(line.item_id, line.quantity) for line in self.lines], offers)

    # -- transitions ---------------------------------------------------------------------
    def submit(self, offers: Mapping[uuid.UUID, Offer], *, by: str, now: datetime) -> Summary:
        self._require(DRAFT, SUBMITTED)
        summary = self.summary(offers)
        summary.require_submittable()
        for line, priced in zip(self.lines, summary.lines, strict=True):
            line.frozen = priced
        self.submitted_at = now
        self._move(SUBMITTED, by=by, now=now)
        return summary

    def discard(self, *, by: str, now: datetime) -> None:
        self._move(DISCARDED, by=by, now=now)

    def ask(self, question: str, *, by: str, now: datetime) -> None:
        self._allowed(INFORMATION_REQUESTED)
        self._move(INFORMATION_REQUESTED, by=by, now=now, note=_text(question, "question"))

    def answer(self, answer: str, *, by: str, now: datetime) -> None:
        self._require(INFORMATION_REQUESTED, SUBMITTED)
        self._move(SUBMITTED, by=by, now=now, note=_text(answer, "answer"))

    def approve(self, *, by: str, now: datetime) -> None:
        self._move(APPROVED, by=by, now=now)

    def reject(self, reason: str, *, by: str, now: datetime) -> None:
        self._allowed(REJECTED)
        self._move(REJECTED, by=by, now=now, note=_text(reason, "reason"))

    def activate(self, *, by: str, now: datetime, note: str | None = None) -> bool:
        """Approved → active. Already active: nothing to do (a payment seen again); False."""
        if self.status == ACTIVE:
            return False
        self._move(ACTIVE, by=by, now=now, note=note)
        return True

    # -- helpers ---------------------------------------------------------------------------
    @property
    def total(self) -> Decimal | None:
        return self.summary({}).total if self.lines and all(line.frozen for line in self.lines) else None

    def _line(self, item_id: uuid.UUID) -> Line | None:
        return next((line for line in self.lines if line.item_id == item_id), None)

    def _editable(self) -> None:
        if self.status != DRAFT:
            raise Conflict(f"a {self.status} request cannot be edited", current_status=self.status)

    def _require(self, status: str, to: str) -> None:
        if self.status != status:
            raise Conflict(f"a {self.status} request cannot become {to}", current_status=self.status)

    def _allowed(self, to: str) -> None:
        if to not in TRANSITIONS.get(self.status, frozenset()):
            raise Conflict(f"a {self.status} request cannot become {to}", current_status=self.status)

    def _move(self, to: str, *, by: str, now: datetime, note: str | None = None) -> None:
        self._allowed(to)
        step = Transition(now, by, self.status, to, note)
        self.status, self.updated_at = to, now
        self.new_history.append(step)
        self.changes.append(step)
