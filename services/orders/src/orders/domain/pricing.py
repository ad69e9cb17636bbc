"""Pricing a request's lines: each line's total and the request's total, in one currency.

Money is Decimal; amounts are rounded to cents once, per line, half up."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from orders.domain.offers import Offer
from portal_runtime.errors import Conflict
from portal_runtime.kernel import cents


@dataclass(frozen=True)
class PricedLine:
    item_id: uuid.UUID
    quantity: int
    name: str | None
    unit_price: Decimal | None
    currency: str | None
    billing: str | None
    billing_period_months: int | None
    available: bool = True

    @property
    def line_total(self) -> Decimal | None:
        return None if self.unit_price is None else cents(self.unit_price * self.quantity)

    @classmethod
    def of(cls, item_id: uuid.UUID, quantity: int, offer: Offer | None) -> PricedLine:
        if offer is None:
            return cls(item_id, quantity, None, None, None, None, None, available=False)
        return cls(
            item_id,
            quantity,
            offer.name,
            offer.price,
            offer.currency,
            offer.billing,
            offer.billing_period_months,
            available=offer.is_offered,
        )


@dataclass(frozen=True)
class Problem:
    item_id: uuid.UUID | None
    message: str
    field: str


@dataclass(frozen=True)
class Summary:
    lines: tuple[PricedLine, ...]
    currency: str | None
    total: Decimal | None
    problems: tuple[Problem, ...] = field(default=())

    def require_submittable(self) -> None:
        """Raise the first reason this summary cannot be submitted, naming the field: a conflict
        with the draft's state (409), as submitting takes no input to be wrong."""
        if not self.lines:
            raise Conflict("an empty request cannot be submitted", field="lines")
        for p in self.problems:
            raise Conflict(p.message, field=p.field, item_id=str(p.item_id) if p.item_id else None)


def summarise(lines: Sequence[PricedLine]) -> Summary:
    """Total the lines. A line not offered (unknown or retired) or in a second currency is a
    problem: the total is then None, since it could not be charged as it stands."""
    problems: list[Problem] = []
    currency: str | None = None
    for line in lines:
        if not line.available:
            problems.append(Problem(line.item_id, f"item {line.item_id} is not offered", "item_id"))
            continue
        if currency is None:
            currency = line.currency
        elif line.currency != currency:
            problems.append(
                Problem(
                    line.item_id,
                    f"a request has one currency ({currency}); item {line.item_id} is in {line.currency}",
                    "item_id",
                )
            )
    total = None
    if lines and not problems:
        total = sum((line.line_total for line in lines), Decimal("0.00"))
    return Summary(tuple(lines), currency, total, tuple(problems))


def price(items: Sequence[tuple[uuid.UUID, int]], offers: Mapping[uuid.UUID, Offer]) -> Summary:
    return summarise([PricedLine.of(item_id, qty, offers.get(item_id)) for item_id, qty in items])
