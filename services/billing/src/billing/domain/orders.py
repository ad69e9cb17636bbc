"""What billing knows of client-area orders beyond their invoices: which source kinds an order's
invoice has, and the cancellations orders told of. A cancellation is kept even when the order has
no invoice yet: events of two topics (orders.orders, billing's own issue) arrive in any order, so
the invoice issued later for a cancelled order is voided at once, and one whose payment was in
flight when the cancellation came is voided when that payment ends."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from billing.domain.invoices import SourceKind

# An order's invoice: a cart order's ("order") or a renewal order's ("renewal"); one per order.
ORDER_SOURCES = (SourceKind.ORDER.value, SourceKind.RENEWAL.value)
# Who voids an order's invoice, as history rows name the actor (`account/user`).
VOIDED_BY = "system/orders"


@dataclass(frozen=True)
class OrderCancellation:
    order_id: uuid.UUID
    account_id: str
    reason: str
    cancelled_at: datetime
    number: str | None = None
    note: str | None = None  # an admin's reason text
    settlement: str | None = None  # refund | credit: how money paid on the invoice goes back
    cancelled_by: str | None = None


def line_description(
    name: str, *, domain: str | None, renewal: bool, period_start: date | None, period_end: date | None
) -> str:
    """`Web hosting (example.com)`; a renewal names the period it pays for, last day included
    (`period_end` is the next due date): `Web hosting (example.com), 2026-03-31 – 2026-04-29`."""
    text = f"{name} ({domain})" if domain else name
    if renewal and period_start is not None and period_end is not None:
        text += f", {period_start.isoformat()} – {(period_end - timedelta(days=1)).isoformat()}"
    return text
