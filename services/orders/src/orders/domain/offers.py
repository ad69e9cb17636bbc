"""The local copy of a catalog item: what a request may contain and at what price.

Catalog's events may arrive late or twice; the copy keeps the highest revision only."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from portal_runtime.errors import Conflict


class NotOfferedYet(Conflict):
    """An item the copy does not know: created a moment ago, its CatalogItemPublished may not
    have arrived yet (about 0.2 s on a quiet machine), so the same request may succeed after
    `retry_after` seconds. 409 rather than 422: the input is not wrong, the copy's state is
    behind. A retired item is known, and stays a plain refusal (422)."""

    problem_kind = "not-offered-yet"
    retry_after = 1


class Status(StrEnum):
    OFFERED = "offered"
    RETIRED = "retired"


@dataclass(frozen=True)
class Offer:
    item_id: uuid.UUID
    revision: int
    status: Status = Status.OFFERED
    sku: str | None = None
    name: str | None = None
    description: str = ""
    price: Decimal | None = None
    currency: str | None = None
    billing: str | None = None
    billing_period_months: int | None = None
    # Catalog's kinds and cycles (kept, not yet used for pricing: a request is priced by the
    # primary price above). Copies made before kinds read as a service with its one price.
    kind: str = "service"
    prices: tuple[tuple[str, Decimal], ...] = ()  # (cycle, price), the primary one first
    units: int | None = None
    parents: tuple[uuid.UUID, ...] = ()
    # An add-on's limit per parent service: 1 unless the catalog says otherwise, None = no limit.
    max_per_parent: int | None = 1
    # Set while an admin features the item: a short text per language (en, tr, de, pl).
    featured: Mapping[str, str] | None = None
    # The tax rate of its prices, a fraction (0.19); None: not taxed. An order line records it when placed.
    tax_rate: Decimal | None = None

    @property
    def is_offered(self) -> bool:
        return self.status == Status.OFFERED

    @property
    def cycles(self) -> tuple[str, ...]:
        """The cycles the item is sold in (a copy made before cycles: its one price's cycle)."""
        if self.prices:
            return tuple(cycle for cycle, _ in self.prices)
        cycle = cycle_of(self.billing, self.billing_period_months)
        return (cycle,) if cycle and self.price is not None else ()

    def price_for(self, cycle: str) -> Decimal | None:
        """The item's price in `cycle`; None when it is not sold in that cycle."""
        if not self.prices:
            return self.price if cycle in self.cycles else None
        return next((price for c, price in self.prices if c == cycle), None)


_CYCLES = {1: "monthly", 3: "quarterly", 6: "semi_annual", 12: "annual", 24: "biennial", 36: "triennial"}
CYCLE_MONTHS = {cycle: months for months, cycle in _CYCLES.items()}  # one_time: none, never due again


def months_of(cycle: str | None) -> int | None:
    """A cycle's length in months; None for one_time (and anything unknown)."""
    return CYCLE_MONTHS.get(cycle) if cycle else None


def cycle_of(billing: str | None, billing_period_months: int | None) -> str | None:
    """The catalog cycle an old single price means (None when there is none)."""
    if billing == "one_time":
        return "one_time"
    return _CYCLES.get(billing_period_months) if billing == "recurring" else None


def tax_rates(offers: Mapping[uuid.UUID, Offer]) -> dict[uuid.UUID, Decimal | None]:
    """Item id → the item's tax rate now (None: not taxed): what an order's lines record when placed."""
    return {item_id: offer.tax_rate for item_id, offer in offers.items()}


def supersedes(incoming: Offer, current: Offer | None) -> bool:
    """Whether `incoming` replaces `current`: only a strictly higher revision does (an older
    or repeated revision arriving late changes nothing). A retirement keeps what was known."""
    return current is None or incoming.revision > current.revision


def merge(incoming: Offer, current: Offer | None) -> Offer:
    """The copy after applying `incoming` (call only when it supersedes). A retirement carries
    no name or price: keep the last known ones so old requests still read well."""
    if incoming.is_offered or current is None:
        return incoming
    return Offer(**{**vars(current), "revision": incoming.revision, "status": Status.RETIRED})
