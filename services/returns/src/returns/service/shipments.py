"""Applying orders' shipments: how many of each order line have shipped (what may be returned)."""

from __future__ import annotations

import uuid

from portal_runtime.uow import UnitsOfWork


class ShippedGoods:
    def __init__(self, uow: UnitsOfWork) -> None:
        self.uow = uow

    async def record(self, order_id: uuid.UUID, shipped: dict[uuid.UUID, int]) -> None:
        """Called by the OrderShipped handler (joining its unit of work): the highest count per line
        wins, so a redelivery or an older shipment arriving late changes nothing."""
        async with self.uow() as uow:
            await uow.shipped.record(order_id, shipped)
            await uow.commit()
