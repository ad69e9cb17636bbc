"""Subscriptions: the services an account has, opened from a request's lines when it is paid.

    pending → active | cancelled                (activated on payment)
    active → suspended | cancelled | terminated | completed (one-time services only)
    suspended → active (reactivate) | cancelled | terminated

A recurring subscription's billing cycle is anchored on `anchor_on` (the day it was activated):
its due dates are `anchor_on` plus whole billing periods (31 Jan → 28 Feb → 31 Mar, never
drifting to the 28th), `next_due_on` the next of them; a one-time one is never due again. A
one-time subscription stays `active` once paid (as the API has always shown it) until it is
completed.

The client area adds (without new statuses): add-ons (`parent_id`: they end with their parent,
and one of the parent's cycle shares its anchor, so it falls due and renews with it), `renew`
(the due date advances once per paid period, counted from the anchor: `due_date(k)`), a
suspension's `suspend_reason` (`overdue` ones end when the renewal is paid; an admin's stay),
and a cancellation the client schedules for the end of the period (`cancel_at_period_end`).

Two kinds of events: the aggregate's own facts (`SubscriptionX`, per subscription, which the
seller flow's mapping publishes as nothing), and what notify tells the customer (`ServiceX`,
one per parent service naming its add-ons), raised by the module's functions that move a
parent together with its add-ons (`end_service`, `suspend_service`, ...)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from orders.domain.events import (
    ServiceCancellationScheduled,
    ServiceCancelled,
    ServiceEvent,
    ServiceOverdue,
    ServiceReactivated,
    ServiceSuspended,
    ServiceTerminated,
    SubscriptionActivated,
    SubscriptionCancellationScheduled,
    SubscriptionCancelled,
    SubscriptionCompleted,
    SubscriptionMoved,
    SubscriptionReactivated,
    SubscriptionRenewed,
    SubscriptionSuspended,
    SubscriptionTerminated,
)
from orders.domain.lines import AddOnRef, OrderLine
from orders.domain.offers import cycle_of, months_of
from orders.domain.pricing import PricedLine
from portal_runtime.errors import Conflict
from portal_runtime.kernel import add_months, cents
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
LIVE = frozenset({Status.ACTIVE, Status.SUSPENDED})  # delivered or paused: renewable, may end
OVERDUE = "overdue"  # the suspension the overdue job makes, lifted by paying the renewal
ADMIN = "admin"  # any other suspension (an admin's), which a payment does not lift


@dataclass
class Subscription:
    id: uuid.UUID
    account_id: str
    request_id: uuid.UUID | None  # the seller flow's request; None for one bought through the cart
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
    order_id: uuid.UUID | None = None  # the cart order that bought it
    domain: str | None = None  # the customer's domain or label for it
    cycle: str | None = None  # the catalog cycle (monthly, ..., one_time); read from billing when not given
    parent_id: uuid.UUID | None = None  # an add-on's parent service
    cancel_at_period_end: bool = False
    suspend_reason: str | None = None  # while suspended: OVERDUE, or an admin's reason
    history: list[Transition[Status]] = field(default_factory=list, repr=False)
    events: list[SubscriptionActivated | SubscriptionMoved | ServiceEvent] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.cycle is None:
            self.cycle = cycle_of(self.billing, self.billing_period_months)

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

    @classmethod
    def bought(cls, *, account_id: str, order_id: uuid.UUID, line: OrderLine, by: str, now: datetime) -> Subscription:
        """A pending service (id `line.subscription_id`) for a new-service or add-on line of a
        cart order, at the line's full cycle price (an add-on's proration is the order's alone)."""
        months = months_of(line.cycle)
        subscription = cls(
            id=line.subscription_id,
            account_id=account_id,
            request_id=None,
            item_id=line.item_id,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            currency=line.currency,
            billing="recurring" if months else "one_time",
            billing_period_months=months,
            status=Status.PENDING,
            created_at=now,
            order_id=order_id,
            domain=line.domain,
            cycle=line.cycle,
            parent_id=line.parent_subscription_id,
        )
        subscription.history.append(LIFECYCLE.begin(Status.PENDING, by=by, at=now, note=f"order {order_id}"))
        return subscription

    @property
    def recurring(self) -> bool:
        return self.billing == "recurring" and bool(self.billing_period_months)

    @property
    def is_add_on(self) -> bool:
        return self.parent_id is not None

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def price(self) -> Decimal:
        """The recurring price of one period: what a renewal charges (never today's catalog price)."""
        return cents(self.unit_price * self.quantity)

    # -- the billing cycle -------------------------------------------------------------
    def due_date(self, periods: int) -> date:
        """The anchor plus `periods` billing periods, each counted from the anchor (31 Jan + 1 =
        28 Feb, + 2 = 31 Mar): never from the previous due date, which would drift to the 28th."""
        if not self.recurring or self.anchor_on is None:
            raise Conflict("a one-time or inactive service has no due dates", current_status=str(self.status))
        return add_months(self.anchor_on, self.billing_period_months * periods)

    def _periods_paid(self) -> int:
        """How many periods from the anchor `next_due_on` is (add_months keeps the month index)."""
        months = (self.next_due_on.year - self.anchor_on.year) * 12 + self.next_due_on.month - self.anchor_on.month
        return months // self.billing_period_months

    @property
    def current_period(self) -> tuple[date, date]:
        """The paid period ending on `next_due_on` (start inclusive, end exclusive)."""
        paid = self._periods_paid()
        return self.due_date(paid - 1), self.due_date(paid)

    @property
    def next_period(self) -> tuple[date, date]:
        """The period a renewal pays for: from `next_due_on` to the due date after it."""
        if self.next_due_on is None:
            raise Conflict("the service is not due again", current_status=str(self.status))
        return self.next_due_on, self.due_date(self._periods_paid() + 1)

    # -- moves ---------------------------------------------------------------------------

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

    def attach_to(self, parent: Subscription, on: date, *, by: str, now: datetime) -> None:
        """An add-on paid on `on`, active from then. In its parent's cycle it takes the parent's
        anchor (it was prorated to the parent's next due date, and renews with it); in another
        cycle it keeps its own anchor, `on`."""
        if self.parent_id != parent.id:
            raise ValueError(f"subscription {self.id} is not an add-on of {parent.id}")
        if not (self.cycle == parent.cycle and self.recurring and parent.next_due_on):
            self.activate(on, by=by, now=now)
            return
        self._move("activate", by=by, now=now, note=f"add-on of {parent.id}")
        self.activated_on, self.anchor_on, self.next_due_on = on, parent.anchor_on, parent.next_due_on
        self.events.append(
            SubscriptionActivated(
                subscription_id=self.id,
                account_id=self.account_id,
                request_id=self.request_id,
                anchor_on=self.anchor_on,
                next_due_on=self.next_due_on,
                by=by,
                at=now,
            )
        )

    def renew(self, period_start: date, period_end: date, *, by: str, now: datetime) -> bool:
        """One more period paid: the due date advances once, to the next one counted from the
        anchor (a late payment moves nothing else). A suspension for `overdue` ends with it; an
        admin's stays. False when that period was paid already (a payment seen again)."""
        if self.status not in LIVE:
            raise Conflict(f"cannot renew a subscription that is {self.status}", current_status=str(self.status))
        if not self.recurring:
            raise Conflict("a one-time service is not renewed", current_status=str(self.status))
        if period_start < self.next_due_on:
            return False
        expected = self.next_period
        if (period_start, period_end) != expected:
            raise Conflict(
                f"the service is due {expected[0]} for {expected[0]}..{expected[1]}, "
                f"not for {period_start}..{period_end}",
                current_status=str(self.status),
            )
        self.next_due_on = period_end
        self._note(f"renewed {period_start}..{period_end}", by=by, now=now)
        self.events.append(
            SubscriptionRenewed(
                subscription_id=self.id, account_id=self.account_id, by=by, at=now, note=f"due {period_end}"
            )
        )
        if self.status == Status.SUSPENDED and self.suspend_reason == OVERDUE:
            self.reactivate(by=by, now=now, note=f"renewal {period_start}..{period_end} paid")
        return True

    def schedule_cancellation(self, *, by: str, now: datetime) -> bool:
        """The client's cancellation: no renewal any more, it ends on its due date (`ends_on`).
        False when already scheduled."""
        if self.cancel_at_period_end:
            return False
        LIFECYCLE.target(self.status, "cancel")
        if self.status not in LIVE or not self.recurring:
            raise Conflict(
                "only an active or suspended recurring service is cancelled at the end of its period; "
                "an admin cancels any other at once",
                current_status=str(self.status),
            )
        self.cancel_at_period_end = True
        self._note(f"cancellation scheduled for {self.next_due_on}", by=by, now=now)
        self.events.append(
            SubscriptionCancellationScheduled(subscription_id=self.id, account_id=self.account_id, by=by, at=now)
        )
        return True

    @property
    def ends_on(self) -> date | None:
        """The day a scheduled cancellation ends the service (its due date)."""
        return self.next_due_on if self.cancel_at_period_end else None

    def suspend(self, *, by: str, now: datetime, note: str | None = None, reason: str = ADMIN) -> None:
        """Paused. `reason` OVERDUE (the overdue job's) ends when the renewal is paid; any other stays."""
        self._moved(SubscriptionSuspended, "suspend", by=by, now=now, note=note)
        self.suspend_reason = reason

    def reactivate(self, *, by: str, now: datetime, note: str | None = None) -> None:
        self._moved(SubscriptionReactivated, "reactivate", by=by, now=now, note=note)
        self.suspend_reason = None

    def cancel(self, *, by: str, now: datetime, note: str | None = None) -> None:
        """Ended at the account's wish: nothing more is due."""
        self._moved(SubscriptionCancelled, "cancel", by=by, now=now, note=note)
        self.next_due_on = self.suspend_reason = None

    def terminate(self, *, by: str, now: datetime, note: str | None = None) -> None:
        """Ended by us (e.g. unpaid): nothing more is due."""
        self._moved(SubscriptionTerminated, "terminate", by=by, now=now, note=note)
        self.next_due_on = self.suspend_reason = None

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

    def _note(self, note: str, *, by: str, now: datetime) -> None:
        """A history row for a change that keeps the status (a renewal, a scheduled cancellation)."""
        self.history.append(Transition(at=now, by=by, from_status=self.status, to_status=self.status, note=note))

    def service_event(self, kind: type[ServiceEvent], add_ons: Iterable[Subscription], now: datetime, **extra):
        """`kind` about this service as it stands, naming `add_ons` (the ones the same move concerned)."""
        return kind(
            subscription_id=self.id,
            account_id=self.account_id,
            name=self.name,
            domain=self.domain,
            cycle=self.cycle,
            price=self.price,
            currency=self.currency,
            next_due_on=self.next_due_on,
            add_ons=tuple(AddOnRef(a.id, a.name) for a in add_ons),
            at=now,
            parent_id=self.parent_id,
            **extra,
        )


# -- a parent with its add-ons: one move, one ServiceX event on the parent ------------------
def add_ons_of(parent: Subscription, subscriptions: Iterable[Subscription]) -> list[Subscription]:
    """The add-ons attached to `parent` among `subscriptions` (any status)."""
    return [s for s in subscriptions if s.parent_id == parent.id]


def by_parent(subscriptions: Sequence[Subscription]) -> list[tuple[Subscription, list[Subscription]]]:
    """Subscriptions one move concerns, grouped for telling: each parent with its add-ons among
    them, and each add-on whose parent is not among them on its own (in the given order)."""
    ids = {s.id for s in subscriptions}
    return [
        (head, [s for s in subscriptions if s.parent_id == head.id])
        for head in subscriptions
        if head.parent_id is None or head.parent_id not in ids
    ]


def end_service(
    parent: Subscription,
    add_ons: Iterable[Subscription],
    action: str,
    *,
    by: str,
    now: datetime,
    note: str | None = None,
    reason: str | None = None,
) -> list[Subscription]:
    """End a service (`action` "cancel" or "terminate") and, with it, every add-on of it not
    ended yet (a pending one is cancelled); raises ServiceCancelled / ServiceTerminated naming
    them, with `reason` (by default: a cancellation at period end, a termination as overdue).
    Answers the add-ons it ended."""
    if action not in ("cancel", "terminate"):
        raise ValueError(f"a service ends by cancel or terminate, not {action}")
    getattr(parent, action)(by=by, now=now, note=note)
    ended = []
    for add_on in add_ons:
        if add_on.live or add_on.status == Status.PENDING:
            move = action if add_on.live else "cancel"
            getattr(add_on, move)(by=by, now=now, note=f"its parent {parent.id} ended")
            ended.append(add_on)
    kind = ServiceCancelled if action == "cancel" else ServiceTerminated
    parent.events.append(parent.service_event(kind, ended, now, **({"reason": reason} if reason else {})))
    return ended


def schedule_cancellation(parent: Subscription, add_ons: Iterable[Subscription], *, by: str, now: datetime) -> bool:
    """The client cancels a service at the end of its period: it and its live recurring add-ons
    are not renewed any more; ServiceCancellationScheduled (ends_on). False when already scheduled."""
    if not parent.schedule_cancellation(by=by, now=now):
        return False
    named = [a for a in add_ons if a.live and a.recurring and a.schedule_cancellation(by=by, now=now)]
    parent.events.append(parent.service_event(ServiceCancellationScheduled, named, now, ends_on=parent.ends_on))
    return True


def ending_at_period_end(subscriptions: Iterable[Subscription], as_of: date) -> list[Subscription]:
    """The live services whose scheduled cancellation is due by `as_of` (their due date has come),
    to end with `end_service(..., "cancel")`; an add-on whose parent ends with it is left to it."""
    ending = [s for s in subscriptions if s.live and s.cancel_at_period_end and s.next_due_on <= as_of]
    return [head for head, _ in by_parent(ending)]


def suspend_service(
    parent: Subscription,
    add_ons: Iterable[Subscription],
    *,
    reason: str,
    by: str,
    now: datetime,
    note: str | None = None,
) -> list[Subscription]:
    """Suspend a service and its active add-ons for `reason` (OVERDUE, or an admin's);
    ServiceSuspended naming them. Answers the add-ons it suspended."""
    parent.suspend(by=by, now=now, note=note, reason=reason)
    suspended = [a for a in add_ons if a.status == Status.ACTIVE]
    for add_on in suspended:
        add_on.suspend(by=by, now=now, note=f"its parent {parent.id} was suspended", reason=reason)
    parent.events.append(parent.service_event(ServiceSuspended, suspended, now, reason=reason))
    return suspended


def reactivate_service(
    parent: Subscription, add_ons: Iterable[Subscription], *, by: str, now: datetime, note: str | None = None
) -> list[Subscription]:
    """Lift a suspension (an admin's): the service and the add-ons suspended for the same reason;
    ServiceReactivated naming them."""
    reason = parent.suspend_reason
    parent.reactivate(by=by, now=now, note=note)
    lifted = [a for a in add_ons if a.status == Status.SUSPENDED and a.suspend_reason == reason]
    for add_on in lifted:
        add_on.reactivate(by=by, now=now, note=f"its parent {parent.id} was reactivated")
    parent.events.append(parent.service_event(ServiceReactivated, lifted, now))
    return lifted


def remind_overdue(
    subscription: Subscription, add_ons: Iterable[Subscription], *, due_on: date, suspends_on: date, now: datetime
) -> None:
    """The overdue reminder (no change of state): ServiceOverdue naming the add-ons on the same renewal."""
    subscription.events.append(
        subscription.service_event(ServiceOverdue, add_ons, now, due_on=due_on, suspends_on=suspends_on)
    )
