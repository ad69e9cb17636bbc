"""Domain changes → published contract events, in one place."""

from __future__ import annotations

from datetime import datetime

from catalog.domain.items import Item
from portal_contracts import Event, Money
from portal_contracts.events.catalog import CatalogItemPublished, CatalogItemRetired


def to_contract(item: Item, change: str, now: datetime) -> Event:
    if change == "retired":
        return CatalogItemRetired(item_id=item.id, revision=item.revision, retired_at=now)
    return CatalogItemPublished(
        item_id=item.id,
        sku=item.sku,
        name=item.name,
        description=item.description,
        price=Money(amount=item.price, currency=item.currency),
        billing=item.billing,
        billing_period_months=item.billing_period_months,
        revision=item.revision,
        published_at=now,
    )
