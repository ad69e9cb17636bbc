"""Keeping the local copy of catalog items (called by the consumer: joins its unit of work)."""

from __future__ import annotations

import logging

from orders.domain.offers import Offer, merge, supersedes
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


class CatalogCopy:
    def __init__(self, uow: UnitsOfWork) -> None:
        self.uow = uow

    async def apply(self, incoming: Offer) -> bool:
        """Keep `incoming` if it is a newer revision of its item than the copy; True when kept."""
        async with self.uow() as uow:
            current = await uow.offers.get(incoming.item_id, for_update=True)
            if not supersedes(incoming, current):
                log.info(
                    "item %s: revision %s ignored, have %s",
                    incoming.item_id,
                    incoming.revision,
                    current.revision if current else None,
                )
                return False
            uow.offers.put(merge(incoming, current))
            await uow.commit()
        return True
