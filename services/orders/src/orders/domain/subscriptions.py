"""Subscriptions: the services an account has, made from an approved request when it is paid."""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from orders.domain.requests import ServiceRequest

ACTIVE = "active"


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it is shorter (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


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
    status: str
    activated_on: date
    next_due_on: date | None
    created_at: datetime


def subscriptions_for(request: ServiceRequest, *, activated_on: date, now: datetime) -> list[Subscription]:
    """One subscription per line of the request, at the price it was submitted with. A recurring
    service is next due one billing period after activation; a one-time one never again."""
    subs = []
    for line in request.lines:
        priced = line.frozen
        if priced is None:
            raise ValueError(f"request {request.id} has a line without a submitted price")
        recurring = priced.billing == "recurring" and priced.billing_period_months
        subs.append(
            Subscription(
                id=uuid.uuid4(),
                account_id=request.account_id,
                request_id=request.id,
                item_id=line.item_id,
                name=priced.name or "",
                quantity=line.quantity,
                unit_price=priced.unit_price,
                currency=priced.currency,
                billing=priced.billing,
                billing_period_months=priced.billing_period_months,
                status=ACTIVE,
                activated_on=activated_on,
                next_due_on=add_months(activated_on, priced.billing_period_months) if recurring else None,
                created_at=now,
            )
        )
    return subs
