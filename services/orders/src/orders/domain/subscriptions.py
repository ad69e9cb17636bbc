"""Subscriptions: the services an account has, opened from a request's lines when it is paid.

    pending → active | cancelled                (activated on payment)
    active → suspended | cancelled | terminated | completed (one-time services only)
    suspended → active (reactivate) | cancelled | terminated

A recurring subscription's billing cycle is anchored on `anchor_on` (the day it was activated):
its due dates are `anchor_on` plus whole billing periods (31 Jan → 28 Feb → 31 Mar, never
drifting to the 28th), `next_due_on` the next of them; a one-time one is never due again. A
one-time subscription stays `active` once paid (as the API has always shown it) until it is
completed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from orders.domain.events import (
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionCompleted,
    SubscriptionMoved,
    SubscriptionReactivated,
    SubscriptionSuspended,
    SubscriptionTerminated,
)
from orders.domain.pricing import PricedLine
from portal_runtime.errors import Conflict
from portal_runtime.kernel import add_months
from portal_runtime.lifecycle import Lifecycle, Transition


class Status(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"
    COMPLETED = "completed"


LIFECYCLE = Lifecycle(
    "subscription",
    {
        (Status.PENDING, "activate"): Status.ACTIVE,
        (Status.PENDING, "cancel"): Status.CANCELLED,
        (Status.ACTIVE, "suspend"): Status.SUSPENDED,
        (Status.ACTIVE, "cancel"): Status.CANCELLED,
        (Status.ACTIVE, "terminate"): Status.TERMINATED,
        (Status.ACTIVE, "complete"): Status.COMPLETED,
        (Status.SUSPENDED, "reactivate"): Status.ACTIVE,
        (Status.SUSPENDED, "cancel"): Status.CANCELLED,
        (Status.SUSPENDED, "terminate"): Status.TERMINATED,
    },
)


@dataclass
class Subscription:
    id: uuid.UUID
    account_id: str
    request_id: uuid.UUID
    item_id: uuid.UUID
    name: str
    quantity: int
    unit_price: Decimal
    currency: str
    billing: str
    billing_period_months: int | None
    status: Status
    created_at: datetime
    activated_on: date | None = None
    anchor_on: date | None = None
    next_due_on: date | None = None
    history: list[Transition[Status]] = field(default_factory=list, repr=False)
    events: list[SubscriptionActivated | SubscriptionMoved] = field(default_factory=list, repr=False)

    @classmethod
    def open(cls, *, account_id: str, request_id: uuid.UUID, line: PricedLine, by: str, now: datetime) -> Subscription:
        """A pending subscription for one line of a request, at the price it was submitted with."""
        if line.unit_price is None or line.currency is None or line.billing is None:
            raise ValueError(f"request {request_id} has a line without a submitted price")
        subscription = cls(
            id=uuid.uuid4(),
            account_id=account_id,
            request_id=request_id,
            item_id=line.item_id,
            name=line.name or "",
            quantity=line.quantity,
            unit_price=line.unit_price,
            currency=line.currency,
            billing=line.billing,
            billing_period_months=line.billing_period_months,
            status=Status.PENDING,
            created_at=now,
        )
        subscription.history.append(LIFECYCLE.begin(Status.PENDING, by=by, at=now))
        return subscription

    @property
    def recurring(self) -> bool:
        return self.billing == "recurring" and bool(self.billing_period_months)

    def activate(self, on: date, *, by: str, now: datetime) -> None:
        """Active from `on`, which anchors the billing cycle: a recurring service is next due one
        billing period later, a one-time one never again."""
        self._move("activate", by=by, now=now)
        self.activated_on = self.anchor_on = on
        self.next_due_on = add_months(on, self.billing_period_months) if self.recurring else None
        self.events.append(
            SubscriptionActivated(
                subscription_id=self.id,
                account_id=self.account_id,
                request_id=self.request_id,
                anchor_on=on,
                next_due_on=self.next_due_on,
                by=by,
                at=now,
            )
        )

    def suspend(self, *, by: str, now: datetime, note: str | None = None) -> None:
        self._moved(SubscriptionSuspended, "suspend", by=by, now=now, note=note)

    def reactivate(self, *, by: str, now: datetime, note: str | None = None) -> None:
        self._moved(SubscriptionReactivated, "reactivate", by=by, now=now, note=note)

    def cancel(self, *, by: str, now: datetime, note: str | None = None) -> None:
        """Ended at the account's wish: nothing more is due."""
        self._moved(SubscriptionCancelled, "cancel", by=by, now=now, note=note)
        self.next_due_on = None

    def terminate(self, *, by: str, now: datetime, note: str | None = None) -> None:
        """Ended by us (e.g. unpaid): nothing more is due."""
        self._moved(SubscriptionTerminated, "terminate", by=by, now=now, note=note)
        self.next_due_on = None

    def complete(self, *, by: str, now: datetime, note: str | None = None) -> None:
        """A one-time service delivered. A recurring one does not complete: it is cancelled or terminated."""
        LIFECYCLE.target(self.status, "complete")
        if self.recurring:
            raise Conflict(
                "a recurring subscription is cancelled or terminated, not completed", current_status=str(self.status)
            )
        self._moved(SubscriptionCompleted, "complete", by=by, now=now, note=note)

    def _moved(self, kind: type[SubscriptionMoved], action: str, *, by: str, now: datetime, note: str | None) -> None:
        self._move(action, by=by, now=now, note=note)
        self.events.append(kind(subscription_id=self.id, account_id=self.account_id, by=by, at=now, note=note))

    def _move(self, action: str, *, by: str, now: datetime, note: str | None = None) -> None:
        step = LIFECYCLE.move(self.status, action, by=by, at=now, note=note)
        self.status = step.to_status
        self.history.append(step)
