"""An order's three statuses, each with its time, and the status shown from them (the order manager's
"Completed → Cleared → Shipped"):

    checkout  completed ⇄ on_hold                      (an admin holds and releases it)
    payment   not_submitted → submitted | cleared | failed   (from billing's events; see `PAYMENT`)
    shipping  unshipped | not_applicable                (not_applicable: an order of services only;
              pending_shipment, partially_shipped, shipped, cancelled: the order manager's shipments)

`status_label`: Shipped once shipped, else Cleared once paid, else Completed. The order's own
`status` (placed → paid | cancelled) stays as it was: it is what fulfilment and the jobs read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from portal_runtime.errors import Conflict
from portal_runtime.lifecycle import Lifecycle, Transition

if TYPE_CHECKING:
    from orders.domain.lines import OrderLine
    from orders.domain.orders import Order


class CheckoutStatus(StrEnum):
    COMPLETED = "completed"
    ON_HOLD = "on_hold"


class PaymentStatus(StrEnum):
    NOT_SUBMITTED = "not_submitted"
    SUBMITTED = "submitted"  # a part paid, the rest due (PaymentReceived with balance_due > 0)
    CLEARED = "cleared"  # paid in full (PaymentConfirmed)
    FAILED = "failed"  # a payment failed (PaymentFailed); a later payment moves it on


class ShippingStatus(StrEnum):
    UNSHIPPED = "unshipped"
    PENDING_SHIPMENT = "pending_shipment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    NOT_APPLICABLE = "not_applicable"  # nothing to ship: an order of services only


class StatusLabel(StrEnum):
    COMPLETED = "Completed"
    CLEARED = "Cleared"
    SHIPPED = "Shipped"


CHECKOUT = Lifecycle(
    "order's checkout",
    {
        (CheckoutStatus.COMPLETED, "hold"): CheckoutStatus.ON_HOLD,
        (CheckoutStatus.ON_HOLD, "release"): CheckoutStatus.COMPLETED,
    },
)
# Where a payment event may move the payment status: cleared is final; a failed payment may be
# followed by another (submitted, cleared), and a part payment by a failure.
PAYMENT = {
    PaymentStatus.NOT_SUBMITTED: {PaymentStatus.SUBMITTED, PaymentStatus.CLEARED, PaymentStatus.FAILED},
    PaymentStatus.SUBMITTED: {PaymentStatus.SUBMITTED, PaymentStatus.CLEARED, PaymentStatus.FAILED},
    PaymentStatus.FAILED: {PaymentStatus.SUBMITTED, PaymentStatus.CLEARED, PaymentStatus.FAILED},
    PaymentStatus.CLEARED: set(),
}


def first_shipping(lines: Iterable[OrderLine]) -> ShippingStatus:
    """unshipped for an order with goods, not_applicable for one of services only."""
    from orders.domain.lines import LineKind

    return (
        ShippingStatus.UNSHIPPED if any(line.kind == LineKind.GOOD for line in lines) else ShippingStatus.NOT_APPLICABLE
    )


def status_label(order: Order) -> StatusLabel:
    if order.shipping_status == ShippingStatus.SHIPPED:
        return StatusLabel.SHIPPED
    if order.payment_status == PaymentStatus.CLEARED:
        return StatusLabel.CLEARED
    return StatusLabel.COMPLETED


def _note(action: str, status: StrEnum, note: str | None) -> str:
    return f"{action}: {status}" + (f" ({note})" if note else "")


def hold(order: Order, *, by: str, now: datetime, note: str | None = None) -> None:
    """An admin puts the order on hold (409 when it is on hold already or cancelled). A history row
    names it (the order's own status does not change)."""
    _checkout(order, "hold", by=by, now=now, note=note)


def release(order: Order, *, by: str, now: datetime, note: str | None = None) -> None:
    """An admin releases a held order (409 when it is not on hold)."""
    _checkout(order, "release", by=by, now=now, note=note)


def _checkout(order: Order, action: str, *, by: str, now: datetime, note: str | None) -> None:
    from orders.domain.orders import Status

    if order.status == Status.CANCELLED:
        raise Conflict(f"order {order.number} is cancelled: it is not {action}ed", current_status=str(order.status))
    step = CHECKOUT.move(order.checkout_status, action, by=by, at=now, note=note)
    order.checkout_status, order.checkout_at = step.to_status, now
    order.history.append(
        Transition(
            at=now,
            by=by,
            from_status=order.status,
            to_status=order.status,
            note=_note("checkout", step.to_status, note),
        )
    )


def payment(order: Order, to: PaymentStatus, *, at: datetime, by: str, now: datetime, note: str | None = None) -> bool:
    """Billing told of a payment (`at`: when it happened): the payment status moves to `to`. False
    (nothing changes) when it is `to` already, when it is cleared (final), or when the event is older
    than the last one applied (arriving late; only clearing always wins)."""
    current = order.payment_status
    if to == current or to not in PAYMENT[current]:
        return False
    late = order.payment_at is not None and current != PaymentStatus.NOT_SUBMITTED and at < order.payment_at
    if late and to != PaymentStatus.CLEARED:
        return False
    order.payment_status, order.payment_at = to, at
    order.history.append(
        Transition(at=now, by=by, from_status=order.status, to_status=order.status, note=_note("payment", to, note))
    )
    return True
