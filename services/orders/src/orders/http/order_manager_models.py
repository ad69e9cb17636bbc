"""What the HTTP API reads and answers for the order manager: shipments, payment terms, an admin's
cancellation, notes, the order statement and the admins' order views.

The rules the brief answers with 422 naming the field (a quantity, a tracking number's characters,
a note's length, ...) are checked by the domain; the documents show them as JSON Schema constraints
(`documented`) without pydantic refusing them first with a 400."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from orders.domain.orders import MAX_NOTE
from orders.domain.shipments import MAX_TRACKING, Shipment
from orders.http.models import OrderOut, Strict
from orders.service.order_manager import AdminOrderView
from orders.service.statement import Statement
from orders.service.terms import MAX_TERMS_DAYS, AccountTerms


def documented(description: str, **schema: Any) -> Any:
    """A field whose constraints the document shows and the domain checks (422 naming it)."""
    return Field(description=description, json_schema_extra=schema)


Carrier = Annotated[
    str,
    documented("the carrier (dhl, ups, fedex, dpd, gls fill the tracking link)", minLength=1, maxLength=MAX_TRACKING),
]
TrackingNumber = Annotated[
    str, documented("letters, digits, spaces, dashes", minLength=1, maxLength=MAX_TRACKING, pattern="^[A-Za-z0-9 -]+$")
]
TrackingUrl = Annotated[
    str | None,
    documented(
        "the carrier's page for the number; without it, the carrier's known page (or null)",
        pattern="^https?://\\S+$",
        maxLength=2000,
    ),
]


# -- in ------------------------------------------------------------------------------------
class ShipmentLineIn(Strict):
    line_id: uuid.UUID = Field(description="a goods line of the order")
    quantity: Annotated[int, documented("at most what the line still awaits", minimum=1)]


class ShipmentIn(Strict):
    lines: Annotated[list[ShipmentLineIn], documented("the goods lines and quantities", minItems=1, maxItems=200)]
    carrier: Carrier | None = None
    tracking_number: TrackingNumber | None = None
    tracking_url: TrackingUrl = None


class TrackingIn(Strict):
    carrier: Carrier
    tracking_number: TrackingNumber
    tracking_url: TrackingUrl = None


class TermsIn(Strict):
    payment_terms_days: Annotated[
        int | None, documented("days net (30: 30 days net); null: none", minimum=1, maximum=MAX_TERMS_DAYS)
    ]


class CancelIn(Strict):
    reason: Annotated[str, documented("why, as the customer reads it", minLength=1, maxLength=500)]
    settlement: Literal["refund", "credit"] | None = Field(
        default=None, description="required when money was paid on the order (payment cleared or submitted)"
    )


class NotesIn(Strict):
    public_note: Annotated[str | None, documented("the customer reads it; null clears it", maxLength=MAX_NOTE)] = None
    private_note: Annotated[str | None, documented("admins only; null clears it", maxLength=MAX_NOTE)] = None


# -- out -----------------------------------------------------------------------------------
class ShipmentLineOut(BaseModel):
    line_id: uuid.UUID
    quantity: int


class TrackingCorrectionOut(BaseModel):
    at: datetime
    by: str
    old_carrier: str
    old_tracking_number: str
    old_tracking_url: str | None
    new_carrier: str
    new_tracking_number: str
    new_tracking_url: str | None


class ShipmentOut(BaseModel):
    shipment_id: uuid.UUID
    order_id: uuid.UUID
    number: str = Field(description="the order's number and the shipment's sequence")
    status: str = Field(description="pending | shipped | cancelled")
    lines: list[ShipmentLineOut]
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    recorded_at: datetime
    recorded_by: str
    shipped_at: datetime | None
    shipped_by: str | None
    cancelled_at: datetime | None = None
    tracking_history: list[TrackingCorrectionOut] = Field(default_factory=list, description="corrections, oldest first")

    @classmethod
    def of(cls, s: Shipment) -> ShipmentOut:
        t = s.tracking
        return cls(
            shipment_id=s.id,
            order_id=s.order_id,
            number=s.number,
            status=s.status,
            lines=[ShipmentLineOut(line_id=line.line_id, quantity=line.quantity) for line in s.lines],
            carrier=t and t.carrier,
            tracking_number=t and t.tracking_number,
            tracking_url=t and t.tracking_url,
            recorded_at=s.recorded_at,
            recorded_by=s.recorded_by,
            shipped_at=s.shipped_at,
            shipped_by=s.shipped_by,
            cancelled_at=s.cancelled_at,
            tracking_history=[
                TrackingCorrectionOut(
                    at=c.at,
                    by=c.by,
                    old_carrier=c.old.carrier,
                    old_tracking_number=c.old.tracking_number,
                    old_tracking_url=c.old.tracking_url,
                    new_carrier=c.new.carrier,
                    new_tracking_number=c.new.tracking_number,
                    new_tracking_url=c.new.tracking_url,
                )
                for c in s.corrections
            ],
        )


class ShipmentSummaryOut(BaseModel):
    shipment_id: uuid.UUID
    number: str
    status: str
    quantity: int = Field(description="the shipment's quantities together")
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipped_at: datetime | None

    @classmethod
    def of(cls, s: Shipment) -> ShipmentSummaryOut:
        t = s.tracking
        return cls(
            shipment_id=s.id,
            number=s.number,
            status=s.status,
            quantity=s.quantity,
            carrier=t and t.carrier,
            tracking_number=t and t.tracking_number,
            tracking_url=t and t.tracking_url,
            shipped_at=s.shipped_at,
        )


class AdminOrderOut(OrderOut):
    private_note: str | None = Field(description="admins only")
    awaiting_quantity: int = Field(description="the goods lines' quantities not yet on a shipment")
    shipments: list[ShipmentSummaryOut]
    unpaid_days: int | None = Field(description="days since placed while unpaid as of the view's date; else null")

    @classmethod
    def of_admin(cls, view: AdminOrderView) -> AdminOrderOut:
        base = OrderOut.of(view).model_dump()
        return cls(
            **base,
            private_note=view.order.private_note,
            awaiting_quantity=view.order.awaiting_quantity,
            shipments=[ShipmentSummaryOut.of(s) for s in view.shipments],
            unpaid_days=view.unpaid_days,
        )


class TermsOut(BaseModel):
    account_id: str
    payment_terms_days: int | None

    @classmethod
    def of(cls, terms: AccountTerms) -> TermsOut:
        return cls(account_id=terms.account_id, payment_terms_days=terms.payment_terms_days)


class StatementLineOut(BaseModel):
    line_id: uuid.UUID
    item_id: uuid.UUID
    sku: str | None
    name: str
    ordered: int
    shipped: int = Field(description="on shipped shipments")
    awaiting: int = Field(description="ordered less shipped")


class StatementOrderOut(BaseModel):
    order_id: uuid.UUID
    number: str
    placed_at: datetime
    placed_on: date
    status_label: str
    shipping_status: str
    lines: list[StatementLineOut]


class StatementOut(BaseModel):
    account_id: str
    orders: list[StatementOrderOut] = Field(description="orders in progress (goods, not cancelled, not fully shipped)")

    @classmethod
    def of(cls, statement: Statement) -> StatementOut:
        from orders.domain.b2b_orders import status_label

        return cls(
            account_id=statement.account_id,
            orders=[
                StatementOrderOut(
                    order_id=s.order.id,
                    number=s.order.number,
                    placed_at=s.order.placed_at,
                    placed_on=s.order.placed_on,
                    status_label=status_label(s.order),
                    shipping_status=s.order.shipping_status,
                    lines=[StatementLineOut(**vars(line)) for line in s.lines],
                )
                for s in statement.orders
            ],
        )
