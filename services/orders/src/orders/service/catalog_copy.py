"""Keeping the local copy of catalog items: applied inside the consumer's transaction."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from orders.adapters.events import offer_from_published, offer_from_retired
from orders.adapters.repository import OfferRepository
from orders.domain.offers import Offer, merge, supersedes
from portal_contracts.events.catalog import CatalogItemPublished, CatalogItemRetired
from portal_runtime.clock import Clock

log = logging.getLogger(__name__)


class CatalogCopy:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def on_published(self, session: AsyncSession, event: CatalogItemPublished) -> bool:
        return await self._apply(session, offer_from_published(event))

    async def on_retired(self, session: AsyncSession, event: CatalogItemRetired) -> bool:
        return await self._apply(session, offer_from_retired(event))

    async def _apply(self, session: AsyncSession, incoming: Offer) -> bool:
        repo = OfferRepository(session)
        current = await repo.get(incoming.item_id, for_update=True)
        if not supersedes(incoming, current):
            log.info(
                "item %s: revision %s ignored, have %s",
                incoming.item_id,
                incoming.revision,
                current.revision if current else None,
            )
            return False
        await repo.save(merge(incoming, current), self.clock.now())
        return True
