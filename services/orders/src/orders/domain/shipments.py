"""Shipments of an order's goods (the order manager's "Cleared → Shipped"):

    pending → shipped      (carrier and tracking number given: OrderShipped)
    pending → cancelled    (the order was cancelled while it was pending)

A shipment holds quantities of the order's GOOD lines; numbered `{order.number}-{seq}`. What a new
shipment may hold per line is what the line still awaits: ordered less shipped less what pending
shipments hold (`awaiting`); the use case records it under the order row's lock, so two at once
never together exceed it. Shipping waits for payment (cleared) unless the account has payment terms
now; a held or cancelled order does not ship. A shipped shipment never changes what it shipped; its
tracking may be corrected (a history of corrections: ShipmentTrackingCorrected).

`refresh` keeps the order's shipping status, its time and `awaiting_quantity` after every change."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import quote

from orders.domain.b2b_orders import CheckoutStatus, PaymentStatus, ShippingStatus, first_shipping
from orders.domain.lines import LineKind, OrderLine
from orders.domain.orders import Order, Status
from portal_runtime.errors import Conflict, InvalidInput
from portal_runtime.lifecycle import Lifecycle, Transition

MAX_TRACKING = 100
TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9 -]{1,100}$")
TRACKING_URL = re.compile(r"^https?://\S{1,2000}$")
DEFAULT_TRACKING_URLS = {
    "dhl": "https://www.dhl.com/track?tracking-id={tracking}",
    "ups": "https://www.ups.com/track?tracknum={tracking}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={tracking}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{tracking}",
    "gls": "https://gls-group.com/track/{tracking}",
}


class ShipmentStatus(StrEnum):
    PENDING = "pending"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


LIFECYCLE = Lifecycle(
    "shipment",
    {
        (ShipmentStatus.PENDING, "ship"): ShipmentStatus.SHIPPED,
        (ShipmentStatus.PENDING, "cancel"): ShipmentStatus.CANCELLED,
    },
)


@dataclass(frozen=True)
class Tracking:
    carrier: str
    tracking_number: str
    tracking_url: str | None = None

    @classmethod
    def of(
        cls, carrier: str, tracking_number: str, tracking_url: str | None, urls: Mapping[str, str] | None = None
    ) -> Tracking:
        """Checked (422 naming the field); without a url, the carrier's page from `urls` (by the
        carrier's name, any case; `{tracking}` is the number, URL-encoded), else none."""
        carrier = (carrier or "").strip()
        if not 1 <= len(carrier) <= MAX_TRACKING:
            raise InvalidInput(f"carrier has 1 to {MAX_TRACKING} characters", field="carrier")
        if not TRACKING_NUMBER.match(tracking_number or "") or not tracking_number.strip():
            raise InvalidInput(
                f"tracking_number has 1 to {MAX_TRACKING} letters, digits, spaces or dashes", field="tracking_number"
            )
        if tracking_url is not None and not TRACKING_URL.match(tracking_url):
            raise InvalidInput("tracking_url is an http(s) address", field="tracking_url")
        if tracking_url is None:
            template = {k.lower(): v for k, v in (DEFAULT_TRACKING_URLS if urls is None else urls).items()}.get(
                carrier.lower()
            )
            tracking_url = template.replace("{tracking}", quote(tracking_number.strip(), safe="")) if template else None
        return cls(carrier, tracking_number.strip(), tracking_url)


@dataclass(frozen=True)
class ShipmentLine:
    line_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class TrackingCorrection:
    at: datetime
    by: str
    old: Tracking
    new: Tracking


@dataclass(frozen=True)
class ShippedLine:
    """A line of a shipment as OrderShipped tells it (see the contract's ShippedLine)."""

    line_id: uuid.UUID
    item_id: uuid.UUID
    sku: str | None
    name: str
    quantity: int
    ordered: int
    shipped: int
    awaiting: int


@dataclass(frozen=True)
class OrderShipped:
    order_id: uuid.UUID
    number: str
    account_id: str
    shipment_id: uuid.UUID
    shipment_number: str
    tracking: Tracking
    lines: tuple[ShippedLine, ...]
    shipping_status: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ShipmentTrackingCorrected:
    order_id: uuid.UUID
    number: str
    account_id: str
    shipment_id: uuid.UUID
    shipment_number: str
    tracking: Tracking
    by: str
    at: datetime


SHIPMENT_EVENTS = (OrderShipped, ShipmentTrackingCorrected)


@dataclass
class Shipment:
    id: uuid.UUID
    order_id: uuid.UUID
    seq: int
    number: str
    status: ShipmentStatus
    lines: tuple[ShipmentLine, ...]
    recorded_at: datetime
    recorded_by: str
    tracking: Tracking | None = None
    shipped_at: datetime | None = None
    shipped_by: str | None = None
    cancelled_at: datetime | None = None
    corrections: list[TrackingCorrection] = field(default_factory=list)
    events: list[object] = field(default_factory=list, repr=False)

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)


# -- quantities ------------------------------------------------------------------------------
def goods(order: Order) -> list[OrderLine]:
    return [line for line in order.lines if line.kind == LineKind.GOOD]


def _held(shipments: Iterable[Shipment], status: ShipmentStatus) -> dict[uuid.UUID, int]:
    held: dict[uuid.UUID, int] = {}
    for shipment in shipments:
        if shipment.status == status:
            for line in shipment.lines:
                held[line.line_id] = held.get(line.line_id, 0) + line.quantity
    return held


def shipped(shipments: Iterable[Shipment]) -> dict[uuid.UUID, int]:
    """Per order line: the quantity of shipped shipments."""
    return _held(shipments, ShipmentStatus.SHIPPED)


def awaiting(order: Order, shipments: Sequence[Shipment]) -> dict[uuid.UUID, int]:
    """Per goods line: what a new shipment may still hold (ordered − shipped − pending)."""
    done, pending = shipped(shipments), _held(shipments, ShipmentStatus.PENDING)
    return {
        line.line_id: line.quantity - done.get(line.line_id, 0) - pending.get(line.line_id, 0) for line in goods(order)
    }


# -- rules -----------------------------------------------------------------------------------
def check_may_ship(order: Order, *, has_terms: bool) -> None:
    """409 when the order may not ship now: cancelled, on hold, or its payment not cleared while
    the account has no payment terms (`current_status` names what stops it)."""
    if order.status == Status.CANCELLED:
        raise Conflict(f"order {order.number} is cancelled: nothing ships", current_status=str(order.status))
    if order.checkout_status == CheckoutStatus.ON_HOLD:
        raise Conflict(f"order {order.number} is on hold: nothing ships", current_status=str(order.checkout_status))
    if order.payment_status != PaymentStatus.CLEARED and not has_terms:
        raise Conflict(
            f"order {order.number} is not paid ({order.payment_status}) and the account has no payment terms: "
            "shipping waits for payment",
            current_status=str(order.payment_status),
        )


def record(
    order: Order,
    shipments: Sequence[Shipment],
    lines: Sequence[tuple[uuid.UUID, int]],
    *,
    tracking: Tracking | None,
    has_terms: bool,
    by: str,
    now: datetime,
    shipment_id: uuid.UUID | None = None,
) -> Shipment:
    """A new shipment of `lines` [(order line_id, quantity)] of `order` (whose `shipments` are all
    of its shipments, read under the order's lock): shipped at once with `tracking`, else pending.
    409 when the order may not ship (`check_may_ship`); 422 `lines` (none), `lines[i].line_id`
    (unknown, not goods, twice), `lines[i].quantity` (< 1, or more than awaited: `awaiting`)."""
    check_may_ship(order, has_terms=has_terms)
    if not lines:
        raise InvalidInput("a shipment has at least one line", field="lines")
    by_id = {line.line_id: line for line in order.lines}
    left = awaiting(order, shipments)
    taken: list[ShipmentLine] = []
    for i, (line_id, quantity) in enumerate(lines):
        line = by_id.get(line_id)
        if line is None or line.kind != LineKind.GOOD:
            what = "no line" if line is None else "a line of services, not goods,"
            raise InvalidInput(f"order {order.number} has {what} {line_id} to ship", field=f"lines[{i}].line_id")
        if any(t.line_id == line_id for t in taken):
            raise InvalidInput(f"line {line_id} is named twice", field=f"lines[{i}].line_id")
        if quantity < 1:
            raise InvalidInput("a shipment's quantity is at least 1", field=f"lines[{i}].quantity")
        if quantity > left[line_id]:
            raise InvalidInput(
                f"line {line.name} awaits {left[line_id]}: {quantity} cannot ship",
                field=f"lines[{i}].quantity",
                awaiting=left[line_id],
            )
        taken.append(ShipmentLine(line_id, quantity))
    seq = max((s.seq for s in shipments), default=0) + 1
    shipment = Shipment(
        id=shipment_id or uuid.uuid4(),
        order_id=order.id,
        seq=seq,
        number=f"{order.number}-{seq}",
        status=ShipmentStatus.PENDING,
        lines=tuple(taken),
        recorded_at=now,
        recorded_by=by,
    )
    everyone = [*shipments, shipment]
    if tracking is not None:
        _ship(order, everyone, shipment, tracking, by=by, now=now)
    else:
        refresh(order, everyone, by=by, now=now, note=f"shipment {shipment.number} pending")
    return shipment


def ship(
    order: Order,
    shipments: Sequence[Shipment],
    shipment: Shipment,
    tracking: Tracking,
    *,
    has_terms: bool,
    by: str,
    now: datetime,
) -> None:
    """A pending shipment leaves with `tracking` (OrderShipped); 409 when it is not pending or the
    order may not ship."""
    if shipment.status != ShipmentStatus.PENDING:
        raise Conflict(f"shipment {shipment.number} is {shipment.status}", current_status=str(shipment.status))
    check_may_ship(order, has_terms=has_terms)
    _ship(order, shipments, shipment, tracking, by=by, now=now)


def _ship(order: Order, shipments: Sequence[Shipment], shipment: Shipment, tracking: Tracking, *, by, now) -> None:
    LIFECYCLE.move(shipment.status, "ship", by=by, at=now)
    shipment.status, shipment.tracking, shipment.shipped_at, shipment.shipped_by = (
        ShipmentStatus.SHIPPED,
        tracking,
        now,
        by,
    )
    refresh(order, shipments, by=by, now=now, note=f"shipment {shipment.number} shipped")
    done, left = shipped(shipments), awaiting(order, shipments)
    by_id = {line.line_id: line for line in order.lines}
    shipment.events.append(
        OrderShipped(
            order_id=order.id,
            number=order.number,
            account_id=order.account_id,
            shipment_id=shipment.id,
            shipment_number=shipment.number,
            tracking=tracking,
            lines=tuple(
                ShippedLine(
                    line_id=s.line_id,
                    item_id=by_id[s.line_id].item_id,
                    sku=by_id[s.line_id].sku,
                    name=by_id[s.line_id].name,
                    quantity=s.quantity,
                    ordered=by_id[s.line_id].quantity,
                    shipped=done[s.line_id],
                    awaiting=left[s.line_id],
                )
                for s in shipment.lines
            ),
            shipping_status=str(order.shipping_status),
            by=by,
            at=now,
        )
    )


def correct_tracking(order: Order, shipment: Shipment, tracking: Tracking, *, by: str, now: datetime) -> bool:
    """A shipped shipment's carrier/tracking corrected (a correction row and ShipmentTrackingCorrected);
    409 when it is not shipped; False (nothing changes) when the tracking is the same."""
    if shipment.status != ShipmentStatus.SHIPPED:
        raise Conflict(
            f"shipment {shipment.number} is {shipment.status}: only a shipped one's tracking is corrected",
            current_status=str(shipment.status),
        )
    if tracking == shipment.tracking:
        return False
    shipment.corrections.append(TrackingCorrection(at=now, by=by, old=shipment.tracking, new=tracking))
    shipment.tracking = tracking
    shipment.events.append(
        ShipmentTrackingCorrected(
            order_id=order.id,
            number=order.number,
            account_id=order.account_id,
            shipment_id=shipment.id,
            shipment_number=shipment.number,
            tracking=tracking,
            by=by,
            at=now,
        )
    )
    return True


def cancelled(shipments: Iterable[Shipment], *, by: str, now: datetime) -> list[Shipment]:
    """The order was cancelled: its pending shipments are cancelled with it (those answered)."""
    done = []
    for shipment in shipments:
        if shipment.status == ShipmentStatus.PENDING:
            LIFECYCLE.move(shipment.status, "cancel", by=by, at=now)
            shipment.status, shipment.cancelled_at = ShipmentStatus.CANCELLED, now
            done.append(shipment)
    return done


def shipping_status(order: Order, shipments: Sequence[Shipment]) -> ShippingStatus:
    """shipped: every goods line fully shipped; partially_shipped: something shipped;
    pending_shipment: nothing shipped, a pending shipment exists; else unshipped / not_applicable;
    cancelled once the order is (goods)."""
    first = first_shipping(order.lines)
    if first == ShippingStatus.NOT_APPLICABLE:
        return first
    if order.status == Status.CANCELLED:
        return ShippingStatus.CANCELLED
    done = shipped(shipments)
    if all(done.get(line.line_id, 0) >= line.quantity for line in goods(order)):
        return ShippingStatus.SHIPPED
    if done:
        return ShippingStatus.PARTIALLY_SHIPPED
    if any(s.status == ShipmentStatus.PENDING for s in shipments):
        return ShippingStatus.PENDING_SHIPMENT
    return ShippingStatus.UNSHIPPED


def refresh(order: Order, shipments: Sequence[Shipment], *, by: str, now: datetime, note: str | None = None) -> None:
    """The order's shipping status (its time moves when it changes) and awaiting_quantity from its
    shipments; a history row (`note`) on the order."""
    status = shipping_status(order, shipments)
    if status != order.shipping_status:
        order.shipping_status, order.shipping_at = status, now
    order.awaiting_quantity = 0 if order.status == Status.CANCELLED else sum(awaiting(order, shipments).values())
    if note:
        order.history.append(
            Transition(
                at=now,
                by=by,
                from_status=order.status,
                to_status=order.status,
                note=f"shipping: {status}, {note}",
            )
        )
