"""What happens to a catalog item, as the domain says it (typed; mapped to contract events in
`catalog.adapters.events`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class ItemPublished:
    """An item was created or changed: its state as of this revision (price, billing and
    billing_period_months are its primary price's)."""

    item_id: uuid.UUID
    sku: str
    name: str
    description: str
    price: Decimal
    currency: str
    billing: str
    billing_period_months: int | None
    kind: str
    prices: tuple[tuple[str, Decimal], ...]  # (cycle, price), the primary one first
    units: int | None
    parents: tuple[uuid.UUID, ...]
    max_per_parent: int | None  # an add-on's limit per parent service (None: none, or no limit)
    featured: tuple[tuple[str, str], ...] | None  # (language, text) while featured
    revision: int
    at: datetime
    attributes: tuple[tuple[str, str], ...] = ()  # (name, value), in the admin's order
    tax_rate: Decimal | None = None  # a fraction (0.19); None: not taxed


@dataclass(frozen=True)
class ItemRetired:
    item_id: uuid.UUID
    revision: int
    at: datetime


@dataclass(frozen=True)
class GroupChanged:
    """An access group was made or changed: its whole state as of this revision."""

    group_id: uuid.UUID
    name: str
    item_ids: tuple[uuid.UUID, ...]
    account_ids: tuple[str, ...]
    revision: int
    at: datetime


@dataclass(frozen=True)
class GroupDeleted:
    group_id: uuid.UUID
    revision: int
    at: datetime
