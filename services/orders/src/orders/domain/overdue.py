"""The overdue and unpaid rules, as of a date, with their settings as parameters: which services
to remind, suspend or terminate given their unpaid renewal orders, and which cart orders to
cancel as unpaid. Pure: the jobs load, call these, apply the steps, and save.

Counted in days after a renewal order's due date: the reminder from `reminder_days` (once per
service and due date), the suspension (reason `overdue`) from `suspend_after_days`, the
termination (the order cancelled as `terminated`: billing voids its invoice) from
`terminate_after_days`. A job run late takes the furthest step due, not every step before it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from orders.domain.b2b_orders import ShippingStatus
from orders.domain.orders import Order, Source, Status
from orders.domain.subscriptions import (
    OVERDUE,
    Subscription,
    add_ons_of,
    by_parent,
    end_service,
    remind_overdue,
    suspend_service,
)
from orders.domain.subscriptions import Status as ServiceStatus

REMIND, SUSPEND, TERMINATE = "remind", "suspend", "terminate"


@dataclass(frozen=True)
class OverdueSettings:
    reminder_days: int = 1
    suspend_after_days: int = 7
    terminate_after_days: int = 30

    def __post_init__(self) -> None:
        if not 0 <= self.reminder_days <= self.suspend_after_days <= self.terminate_after_days:
            raise ValueError("overdue settings: 0 <= reminder_days <= suspend_after_days <= terminate_after_days")


@dataclass(frozen=True)
class OverdueStep:
    """One step for one service (a parent, or an add-on whose parent is not on the order) and the
    add-ons on the same order, which follow it."""

    action: str  # remind | suspend | terminate
    subscription_id: uuid.UUID
    order_id: uuid.UUID
    due_on: date
    suspends_on: date
    terminates_on: date


def overdue_steps(
    orders: Iterable[Order],
    subscriptions: Mapping[uuid.UUID, Subscription],
    as_of: date,
    settings: OverdueSettings = OverdueSettings(),
    reminded: set[tuple[uuid.UUID, date]] = frozenset(),
) -> list[OverdueStep]:
    """The steps due as of `as_of` for the unpaid (placed) renewal orders: terminate a live
    service, else suspend an active one, else remind an active one not yet `reminded` for that
    due date ((subscription_id, due_on)). A service an admin suspended is not suspended again,
    but is terminated in its time."""
    steps = []
    for order in orders:
        if order.source != Source.RENEWAL or order.status != Status.PLACED:
            continue
        late = (as_of - order.due_on).days
        on_order = [
            subscriptions[line.subscription_id] for line in order.lines if line.subscription_id in subscriptions
        ]
        for head, _ in by_parent(on_order):
            action = None
            if late >= settings.terminate_after_days and head.live:
                action = TERMINATE
            elif late >= settings.suspend_after_days and head.status == ServiceStatus.ACTIVE:
                action = SUSPEND
            elif (
                late >= settings.reminder_days
                and head.status == ServiceStatus.ACTIVE
                and (head.id, order.due_on) not in reminded
            ):
                action = REMIND
            if action:
                steps.append(
                    OverdueStep(
                        action=action,
                        subscription_id=head.id,
                        order_id=order.id,
                        due_on=order.due_on,
                        suspends_on=order.due_on + timedelta(days=settings.suspend_after_days),
                        terminates_on=order.due_on + timedelta(days=settings.terminate_after_days),
                    )
                )
    return steps


def apply_overdue(
    step: OverdueStep,
    order: Order,
    subscriptions: Mapping[uuid.UUID, Subscription],
    *,
    by: str,
    now: datetime,
) -> list[Subscription]:
    """Carry out `step` (ServiceOverdue, ServiceSuspended or ServiceTerminated on the service,
    naming its add-ons; a termination also cancels the order as `terminated`). Answers the
    subscriptions changed (to save; the order too when terminated)."""
    service = subscriptions[step.subscription_id]
    add_ons = add_ons_of(service, subscriptions.values())
    if step.action == REMIND:
        on_order = {line.subscription_id for line in order.lines}
        named = [a for a in add_ons if a.id in on_order]
        remind_overdue(service, named, due_on=step.due_on, suspends_on=step.suspends_on, now=now)
        return [service]
    if step.action == SUSPEND:
        note = f"renewal {order.number} due {step.due_on} unpaid"
        return [service, *suspend_service(service, add_ons, reason=OVERDUE, by=by, now=now, note=note)]
    ended = end_service(service, add_ons, "terminate", by=by, now=now, note=f"renewal {order.number} unpaid")
    if order.status == Status.PLACED:  # an order renewing two services is cancelled by the first termination
        order.cancel("terminated", by=by, now=now)
    return [service, *ended]


_SHIPPING = (ShippingStatus.PENDING_SHIPMENT, ShippingStatus.PARTIALLY_SHIPPED, ShippingStatus.SHIPPED)


def unpaid_orders(orders: Iterable[Order], as_of: date, cancel_unpaid_after_days: int = 14) -> list[Order]:
    """The cart orders still unpaid `cancel_unpaid_after_days` days after they were placed, to
    cancel as `unpaid` (renewal orders follow the overdue steps instead). Not an order on payment
    terms (due later), nor one that is shipping (a shipment pending or gone: an admin decides)."""
    return [
        order
        for order in orders
        if order.source == Source.CART
        and order.status == Status.PLACED
        and (as_of - order.placed_on).days >= cancel_unpaid_after_days
        and order.payment_terms_days is None
        and order.shipping_status not in _SHIPPING
    ]
