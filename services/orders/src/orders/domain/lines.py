"""An order's line: what one order charges for one service or a quantity of goods, shared by the cart that prices it,
the order that holds it, its `OrderPlaced` event and the fulfilment that applies it. A value, so
that the event carries exactly what the order holds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class LineKind(StrEnum):
    NEW = "new"  # a new service: creates subscription_id
    RENEWAL = "renewal"  # one more period of subscription_id
    ADD_ON = "add_on"  # creates subscription_id, attached to parent_subscription_id
    GOOD = "good"  # a quantity of goods: no service, no period (shipped, not activated)


@dataclass(frozen=True)
class OrderLine:
    """`amount` is the line's total after proration (`unit_price` × quantity otherwise);
    `period_start`..`period_end` the period it pays for (end exclusive: the next due date; None
    for a one-time service). `subscription_id` is the service the line creates or renews; a line
    of goods has neither a service nor a period."""

    line_id: uuid.UUID
    kind: LineKind
    item_id: uuid.UUID
    sku: str | None
    name: str
    cycle: str
    unit_price: Decimal
    amount: Decimal
    currency: str
    subscription_id: uuid.UUID | None
    period_start: date | None
    period_end: date | None
    quantity: int = 1
    parent_subscription_id: uuid.UUID | None = None
    domain: str | None = None


@dataclass(frozen=True)
class AddOnRef:
    """An add-on a service event names."""

    subscription_id: uuid.UUID
    name: str
