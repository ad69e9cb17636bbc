"""Sample events of the order manager's emails (issue 15), shared by notify's tests: a shipment that
left (partial, then the last), a cancelled order, a message in an order's thread from either side."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from portal_contracts.events.orders import OrderCancelled, OrderMessagePosted, OrderShipped, ShippedLine

AT = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
ORDER = uuid.UUID("99999999-0000-0000-0000-000000000015")
FIRST_SHIPMENT = uuid.UUID("99999999-0000-0000-0000-000000000016")
LAST_SHIPMENT = uuid.UUID("99999999-0000-0000-0000-000000000017")
MESSAGE = uuid.UUID("99999999-0000-0000-0000-000000000018")
BOLT_LINE = uuid.UUID("99999999-0000-0000-0000-000000000019")
NUT_LINE = uuid.UUID("99999999-0000-0000-0000-000000000020")
BOLT = uuid.UUID("99999999-0000-0000-0000-000000000005")
NUT = uuid.UUID("99999999-0000-0000-0000-000000000021")
TRACKING_URL = "https://www.dhl.com/track?tracking-id=JD014600001&lang=en"


def bolts(quantity: int, shipped: int, awaiting: int) -> ShippedLine:
    return ShippedLine(
        line_id=BOLT_LINE,
        item_id=BOLT,
        sku="BOLT-M8",
        name="Steel bolt <M8>",
        quantity=quantity,
        ordered=1200,
        shipped=shipped,
        awaiting=awaiting,
    )


def nuts(quantity: int) -> ShippedLine:
    return ShippedLine(
        line_id=NUT_LINE,
        item_id=NUT,
        sku="NUT-M8",
        name="Hex nut M8",
        quantity=quantity,
        ordered=50,
        shipped=50,
        awaiting=0,
    )


def first_shipment(tracking_url: str | None = TRACKING_URL) -> OrderShipped:
    """1,000 of the 1,200 bolts and all 50 nuts: 200 bolts still to ship."""
    return OrderShipped(
        order_id=ORDER,
        number="ORD-2026-0042",
        account_id="acme",
        shipment_id=FIRST_SHIPMENT,
        shipment_number="ORD-2026-0042-1",
        carrier="DHL",
        tracking_number="JD014600001",
        tracking_url=tracking_url,
        lines=[bolts(1000, 1000, 200), nuts(50)],
        shipping_status="partially_shipped",
        shipped_by="admin",
        shipped_at=AT,
    )


def last_shipment() -> OrderShipped:
    """The last 200 bolts: nothing left to ship."""
    return OrderShipped(
        order_id=ORDER,
        number="ORD-2026-0042",
        account_id="acme",
        shipment_id=LAST_SHIPMENT,
        shipment_number="ORD-2026-0042-2",
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        tracking_url=None,
        lines=[bolts(200, 1200, 0)],
        shipping_status="shipped",
        shipped_by="admin",
        shipped_at=AT,
    )


def order_cancelled(
    reason: str = "admin",
    *,
    note: str | None = "Out of <stock> & discontinued",
    settlement: str | None = None,
    number: str | None = "ORD-2026-0042",
    order_id: uuid.UUID = ORDER,
) -> OrderCancelled:
    return OrderCancelled(
        order_id=order_id,
        account_id="acme",
        reason=reason,
        cancelled_at=AT,
        number=number,
        note=note,
        settlement=settlement,
        cancelled_by="admin" if reason == "admin" else "system",
    )


def message(side: str = "business", *, author_name: str | None = None, message_id: uuid.UUID = MESSAGE):
    return OrderMessagePosted(
        message_id=message_id,
        order_id=ORDER,
        number="ORD-2026-0042",
        account_id="acme",
        side=side,
        author="ayla" if side == "customer" else "dispatch",
        author_name=author_name,
        body="Could you deliver the rest\nbefore <Friday> & call ahead?",
        posted_at=AT,
    )
