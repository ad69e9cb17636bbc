"""What the quotes' endpoints read and answer."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from orders.domain.quotes import MAX_LINES, MAX_QUANTITY, MAX_TEXT, LineIn, Quote, QuoteLine
from orders.http.models import Strict, TransitionOut
from orders.service.quotes import QuoteDraft
from portal_runtime.openapi import decimal_text

UnitPrice = decimal_text(digits=12)

Cycle = Literal["monthly", "quarterly", "semi_annual", "annual", "biennial", "triennial", "one_time"]
QuoteStatus = Literal["draft", "sent", "accepted", "rejected", "expired"]


class QuoteLineIn(Strict):
    item_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
    unit_price: UnitPrice | None = Field(
        default=None,
        description="the price offered (0 or more, 2 decimals); default: the catalog's one-time price of a good, "
        "or the price of `cycle` of a service",
    )
    cycle: Cycle | None = Field(
        default=None, description="a service's cycle (default: one_time if sold so, else its primary cycle)"
    )


class QuoteIn(Strict):
    account_id: Annotated[str, Field(min_length=1, max_length=200)]
    lines: Annotated[list[QuoteLineIn], Field(min_length=1, max_length=MAX_LINES)]
    valid_until: date = Field(description="the last day it may be accepted: today or later (422 otherwise)")
    note: Annotated[str, Field(max_length=MAX_TEXT)] = ""

    def draft(self) -> QuoteDraft:
        lines = [LineIn(line.item_id, line.quantity, line.unit_price, line.cycle) for line in self.lines]
        return QuoteDraft(self.account_id, lines, self.valid_until, self.note)


class RejectIn(Strict):
    reason: Annotated[str, Field(max_length=MAX_TEXT)] = ""


class QuoteLineOut(BaseModel):
    line_id: uuid.UUID
    item_id: uuid.UUID
    sku: str | None
    name: str
    kind: str = Field(description="service | good")
    cycle: str
    quantity: int
    unit_price: Decimal
    amount: Decimal = Field(description="quantity × unit_price")

    @classmethod
    def of(cls, line: QuoteLine) -> QuoteLineOut:
        return cls(**{f: getattr(line, f) for f in cls.model_fields})


class QuoteOut(BaseModel):
    quote_id: uuid.UUID
    number: str = Field(description="Q-000001")
    account_id: str
    status: QuoteStatus
    currency: str
    lines: list[QuoteLineOut]
    total: Decimal
    valid_until: date = Field(description="it may be accepted until this day, inclusive")
    note: str
    order_id: uuid.UUID | None = Field(description="the one order accepting it placed")
    reason: str | None = Field(description="why it was rejected")
    created_at: datetime
    sent_at: datetime | None
    expiring_noticed_at: datetime | None = Field(description="when the account was told it expires soon")
    history: list[TransitionOut] = Field(description="empty in lists")

    @classmethod
    def of(cls, q: Quote) -> QuoteOut:
        return cls(
            quote_id=q.id,
            number=q.number,
            account_id=q.account_id,
            status=q.status,
            currency=q.currency,
            lines=[QuoteLineOut.of(line) for line in q.lines],
            total=q.total,
            valid_until=q.valid_until,
            note=q.note,
            order_id=q.order_id,
            reason=q.reason,
            created_at=q.created_at,
            sent_at=q.sent_at,
            expiring_noticed_at=q.expiring_noticed_at,
            history=[TransitionOut.of(t) for t in q.history],
        )
