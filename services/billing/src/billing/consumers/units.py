"""Events billing's unit wallets act on: usage the metering systems report (`UnitsConsumed` on
`usage.units`: one consumed entry per usage id, however often it comes), and catalog's items, of
which billing keeps its copy of the unit packages it sells (a package's latest revision; a
retired item, or one that is no longer a unit package, is not sold from then on)."""

from __future__ import annotations

import logging

from billing.domain.units import UnitPackage
from billing.service.units import UnitWallets
from portal_contracts.events.catalog import CatalogItemPublished, CatalogItemRetired
from portal_contracts.events.usage import UnitsConsumed
from portal_runtime.consumer import EventConsumer, Incoming
from portal_runtime.errors import Conflict

log = logging.getLogger(__name__)


def package_of(event: CatalogItemPublished) -> UnitPackage | None:
    """The unit package a published item is, priced at its one-time price; None for another kind."""
    if event.kind != "unit_package" or event.units is None:
        return None
    one_time = next((p.price for p in event.prices if p.cycle == "one_time"), event.price.amount)
    return UnitPackage(
        item_id=event.item_id,
        sku=event.sku,
        name=event.name,
        units=event.units,
        price=one_time,
        currency=event.price.currency,
        revision=event.revision,
    )


def register(consumer: EventConsumer, units: UnitWallets) -> None:
    @consumer.on(UnitsConsumed)
    async def on_units_consumed(incoming: Incoming) -> None:
        event: UnitsConsumed = incoming.event
        try:
            await units.record_usage(
                account_id=event.account_id, usage_id=event.usage_id, units=event.units, used_on=event.used_on
            )
        except Conflict as exc:  # the same usage id with other figures: the first report stands
            log.warning("usage %s of account %s dropped: %s", event.usage_id, event.account_id, exc.message)

    @consumer.on(CatalogItemPublished)
    async def on_item_published(incoming: Incoming) -> None:
        event: CatalogItemPublished = incoming.event
        package = package_of(event)
        if package is None:
            await units.package_withdrawn(event.item_id, event.revision)  # a no-op unless it was a package
        else:
            await units.package_published(package)

    @consumer.on(CatalogItemRetired)
    async def on_item_retired(incoming: Incoming) -> None:
        await units.package_withdrawn(incoming.event.item_id, incoming.event.revision)
