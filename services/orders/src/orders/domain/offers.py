"""The local copy of a catalog item: what a request may contain and at what price.

Catalog's events may arrive late or twice; the copy keeps the highest revision only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


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

    @property
    def is_offered(self) -> bool:
        return self.status == Status.OFFERED


_CYCLES = {1: "monthly", 3: "quarterly", 6: "semi_annual", 12: "annual", 24: "biennial", 36: "triennial"}


def cycle_of(billing: str | None, billing_period_months: int | None) -> str | None:
    """The catalog cycle an old single price means (None when there is none)."""
    if billing == "one_time":
        return "one_time"
    return _CYCLES.get(billing_period_months) if billing == "recurring" else None


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
