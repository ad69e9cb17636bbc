"""A service request: the additional services a customer asks for, from draft to active.

    draft → submitted | discarded
    submitted → approved | rejected | information_requested
    information_requested → submitted | rejected  (the customer answers; or an admin closes it)
    approved → active                             (on payment: its lines become subscriptions)

Lines change while a draft only. Anything else is an `InvalidTransition` (409 naming the current
status), and nothing changes. Each move records one history row and raises its typed event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from orders.domain.events import (
    ActivatedService,
    InformationProvided,
    InformationRequested,
    RequestActivated,
    RequestApproved,
    RequestDiscarded,
    RequestRejected,
    RequestSubmitted,
)
from orders.domain.offers import NotOfferedYet, Offer
from orders.domain.pricing import PricedLine, Summary, price, summarise
from orders.domain.subscriptions import Subscription
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.lifecycle import Lifecycle, Transition


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    DISCARDED = "discarded"
    INFORMATION_REQUESTED = "information_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    ACTIVE = "active"


LIFECYCLE = Lifecycle(
    "request",
    {
        (Status.DRAFT, "edit"): Status.DRAFT,
        (Status.DRAFT, "submit"): Status.SUBMITTED,
        (Status.DRAFT, "discard"): Status.DISCARDED,
        (Status.SUBMITTED, "ask"): Status.INFORMATION_REQUESTED,
        (Status.SUBMITTED, "approve"): Status.APPROVED,
        (Status.SUBMITTED, "reject"): Status.REJECTED,
        (Status.INFORMATION_REQUESTED, "answer"): Status.SUBMITTED,
        (Status.INFORMATION_REQUESTED, "reject"): Status.REJECTED,
        (Status.APPROVED, "activate"): Status.ACTIVE,
    },
)
MAX_LINES = 50
MAX_QUANTITY = 1000
MAX_TEXT = 2000

RequestEvent = (
    RequestSubmitted
    | RequestDiscarded
    | InformationRequested
    | InformationProvided
    | RequestApproved
    | RequestRejected
    | RequestActivated
)


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
    status: Status
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    lines: list[Line] = field(default_factory=list)
    history: list[Transition[Status]] = field(default_factory=list, repr=False)
    events: list[RequestEvent] = field(default_factory=list, repr=False)

    @classmethod
    def create(cls, account_id: str, *, by: str, now: datetime) -> ServiceRequest:
        request = cls(id=uuid.uuid4(), account_id=account_id, status=Status.DRAFT, created_at=now, updated_at=now)
        request.history.append(LIFECYCLE.begin(Status.DRAFT, by=by, at=now))
        return request

    # -- lines (draft only) --------------------------------------------------------------
    def set_line(
        self, item_id: uuid.UUID, quantity: int, offers: Mapping[uuid.UUID, Offer], *, field: str = "item_id"
    ) -> None:
        LIFECYCLE.target(self.status, "edit")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidInput(f"quantity must be between 1 and {MAX_QUANTITY}", field="quantity")
        offer = offers.get(item_id)
        if offer is None:
            raise NotOfferedYet(
                f"item {item_id} is not offered (yet): orders has not heard of it. An item created a moment "
                "ago is offered once orders' copy of the catalog has it; try again after Retry-After",
                field=field,
                item_id=str(item_id),
            )
        if not offer.is_offered:
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
        LIFECYCLE.target(self.status, "edit")
        line = self._line(item_id)
        if line is None:
            raise NotFound(f"the request has no line for item {item_id}", field="item_id")
        self.lines.remove(line)

    @property
    def item_ids(self) -> list[uuid.UUID]:
        return [line.item_id for line in self.lines]

    def summary(self, offers: Mapping[uuid.UUID, Offer]) -> Summary:
        """Frozen prices once submitted; the current offers while a draft."""
        if self.priced:
            return summarise([line.frozen for line in self.lines])
        return price([(line.item_id, line.quantity) for line in self.lines], offers)

    @property
    def priced(self) -> bool:
        """Whether every line has the price it was submitted with."""
        return bool(self.lines) and all(line.frozen for line in self.lines)

    @property
    def total(self) -> Decimal | None:
        return self.summary({}).total if self.priced else None

    # -- moves ---------------------------------------------------------------------------
    def submit(self, offers: Mapping[uuid.UUID, Offer], *, by: str, now: datetime) -> Summary:
        LIFECYCLE.target(self.status, "submit")
        summary = self.summary(offers)
        summary.require_submittable()
        for line, priced in zip(self.lines, summary.lines, strict=True):
            line.frozen = priced
        self.submitted_at = now
        self._move("submit", by=by, now=now)
        self.events.append(
            RequestSubmitted(**self._ids(), lines=summary.lines, total=summary.total, currency=summary.currency, at=now)
        )
        return summary

    def discard(self, *, by: str, now: datetime) -> None:
        self._move("discard", by=by, now=now)
        self.events.append(RequestDiscarded(**self._ids(), by=by, at=now))

    def ask(self, question: str, *, by: str, now: datetime) -> None:
        LIFECYCLE.target(self.status, "ask")
        question = _text(question, "question")
        self._move("ask", by=by, now=now, note=question)
        self.events.append(InformationRequested(**self._ids(), question=question, by=by, at=now))

    def answer(self, answer: str, *, by: str, now: datetime) -> None:
        LIFECYCLE.target(self.status, "answer")
        answer = _text(answer, "answer")
        self._move("answer", by=by, now=now, note=answer)
        self.events.append(InformationProvided(**self._ids(), answer=answer, by=by, at=now))

    def approve(self, *, by: str, now: datetime) -> None:
        self._move("approve", by=by, now=now)
        summary = self.summary({})
        self.events.append(
            RequestApproved(
                **self._ids(), lines=summary.lines, total=summary.total, currency=summary.currency, by=by, at=now
            )
        )

    def reject(self, reason: str, *, by: str, now: datetime) -> None:
        LIFECYCLE.target(self.status, "reject")
        reason = _text(reason, "reason")
        self._move("reject", by=by, now=now, note=reason)
        self.events.append(RequestRejected(**self._ids(), reason=reason, by=by, at=now))

    def activate(self, *, by: str, now: datetime, note: str | None = None) -> list[Subscription]:
        """Approved → active: each line becomes an active subscription, anchored on today.
        Already active (a payment seen again): nothing to do, no subscriptions."""
        if self.status == Status.ACTIVE:
            return []
        LIFECYCLE.target(self.status, "activate")
        subscriptions = [
            Subscription.open(account_id=self.account_id, request_id=self.id, line=line.frozen, by=by, now=now)
            for line in self.lines
        ]
        for subscription in subscriptions:
            subscription.activate(now.date(), by=by, now=now)
        self._move("activate", by=by, now=now, note=note)
        services = tuple(
            ActivatedService(s.id, s.item_id, s.name, s.quantity, s.activated_on, s.next_due_on) for s in subscriptions
        )
        self.events.append(RequestActivated(**self._ids(), services=services, by=by, at=now))
        return subscriptions

    # -- helpers ---------------------------------------------------------------------------
    def _ids(self) -> dict:
        return {"request_id": self.id, "account_id": self.account_id}

    def _line(self, item_id: uuid.UUID) -> Line | None:
        return next((line for line in self.lines if line.item_id == item_id), None)

    def _move(self, action: str, *, by: str, now: datetime, note: str | None = None) -> None:
        step = LIFECYCLE.move(self.status, action, by=by, at=now, note=note)
        self.status, self.updated_at = step.to_status, now
        self.history.append(step)
