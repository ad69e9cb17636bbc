"""An order's line: what one order charges for one service or a quantity of goods, shared by the cart that prices it,
the order that holds it, its `OrderPlaced` event and the fulfilment that applies it. A value, so
that the event carries exactly what the order holds."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from portal_runtime.kernel import cents


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
    tax_rate: Decimal | None = None  # the item's tax rate when the order was placed (0.19); None: not taxed

    @property
    def tax(self) -> Decimal:
        """The line's tax: its net `amount` × `tax_rate`, half-up to the cent (0.00 when not taxed)."""
        return cents(self.amount * self.tax_rate) if self.tax_rate else Decimal("0.00")


def canonical_rate(rate: Decimal | None) -> Decimal | None:
    """A rate as shown and published: no trailing zeros beyond two places (0.1900 → 0.19, 0.0750 → 0.075)."""
    if rate is None:
        return None
    rate = rate.normalize()
    return rate.quantize(Decimal("0.01")) if rate.as_tuple().exponent > -2 else rate


def with_tax_rates(lines: Iterable[OrderLine], rates: Mapping[uuid.UUID, Decimal | None]) -> list[OrderLine]:
    """The lines, each with its item's tax rate now (from `rates`, item id → rate; an item not in it: not taxed)."""
    return [replace(line, tax_rate=canonical_rate(rates.get(line.item_id))) for line in lines]


@dataclass(frozen=True)
class AddOnRef:
    """An add-on a service event names."""

    subscription_id: uuid.UUID
    name: str
