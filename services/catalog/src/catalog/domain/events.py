"""What happens to a catalog item, as the domain says it (typed; mapped to contract events in
`catalog.adapters.events`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class ItemPublished:
    """An item was created or changed: its state as of this revision."""

    item_id: uuid.UUID
    sku: str
    name: str
    description: str
    price: Decimal
    currency: str
    billing: str
    billing_period_months: int | None
    revision: int
    at: datetime


@dataclass(frozen=True)
class ItemRetired:
    item_id: uuid.UUID
    revision: int
    at: datetime
