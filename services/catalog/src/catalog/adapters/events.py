"""Catalog's domain events → published contract events: the service's one mapping."""

from __future__ import annotations

from catalog.domain.events import GroupChanged, GroupDeleted, ItemPublished, ItemRetired
from portal_contracts import Event, Money
from portal_contracts.events.catalog import (
    AccessGroupChanged,
    AccessGroupDeleted,
    CatalogItemPublished,
    CatalogItemRetired,
    CyclePrice,
)


def to_contract(event: object) -> Event:
    match event:
        case ItemPublished():
            return CatalogItemPublished(
                item_id=event.item_id,
                sku=event.sku,
                name=event.name,
                description=event.description,
                price=Money(amount=event.price, currency=event.currency),
                billing=event.billing,
                billing_period_months=event.billing_period_months,
                revision=event.revision,
                published_at=event.at,
                kind=event.kind,
                prices=[CyclePrice(cycle=cycle, price=price) for cycle, price in event.prices],
                units=event.units,
                parents=list(event.parents),
                max_per_parent=event.max_per_parent,
                featured=None if event.featured is None else dict(event.featured),
                attributes=dict(event.attributes),
                tax_rate=event.tax_rate,
            )
        case ItemRetired():
            return CatalogItemRetired(item_id=event.item_id, revision=event.revision, retired_at=event.at)
        case GroupChanged():
            return AccessGroupChanged(
                group_id=event.group_id,
                name=event.name,
                item_ids=list(event.item_ids),
                account_ids=list(event.account_ids),
                revision=event.revision,
                changed_at=event.at,
            )
        case GroupDeleted():
            return AccessGroupDeleted(group_id=event.group_id, revision=event.revision, deleted_at=event.at)
    raise TypeError(f"catalog has no contract for {type(event).__name__}")
