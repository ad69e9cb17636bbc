"""Events catalog publishes about its items (products, additional services, add-ons)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from portal_contracts.base import Event, Money, event


@event(topic="catalog.items", version=1, key="item_id")
class CatalogItemPublished(Event):
    """An item is offered, or its offer changed (name, price, billing). The whole current state."""

    item_id: uuid.UUID
    sku: str
    name: str
    description: str = ""
    price: Money
    billing: Literal["one_time", "recurring"]
    billing_period_months: int | None = Field(default=None, ge=1)
    revision: int = Field(ge=1, description="grows by one with each change of the item")
    published_at: AwareDatetime


@event(topic="catalog.items", version=1, key="item_id")
class CatalogItemRetired(Event):
    """An item is no longer offered; what was bought stays bought."""

    item_id: uuid.UUID
    revision: int = Field(ge=1)
    retired_at: AwareDatetime
