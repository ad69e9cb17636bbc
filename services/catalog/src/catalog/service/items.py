"""Use cases of the catalog: one unit of work each; the state and its events commit together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from catalog.domain.items import Item, Status
from portal_runtime.clock import Clock
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


@dataclass
class CreateItem:
    sku: str
    name: str
    description: str
    price: Decimal
    currency: str
    billing: str
    billing_period_months: int | None = None


class CatalogService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def create_item(self, cmd: CreateItem) -> Item:
        async with self.uow() as uow:
            if await uow.items.sku_taken(cmd.sku.strip()):
                raise Conflict(f"sku {cmd.sku.strip()!r} is taken", field="sku")
            item = uow.items.add(Item.create(**vars(cmd), now=self.clock.now()))
            await uow.commit()
        return item

    async def change_item(self, item_id: uuid.UUID, changes: dict) -> Item:
        async with self.uow() as uow:
            item = await self._load(uow, item_id)
            if "sku" in changes and await uow.items.sku_taken(changes["sku"], other_than=item_id):
                raise Conflict(f"sku {changes['sku']!r} is taken", field="sku")
            item.change(self.clock.now(), **changes)
            await uow.commit()
        return item

    async def retire_item(self, item_id: uuid.UUID) -> Item:
        async with self.uow() as uow:
            item = await self._load(uow, item_id)
            item.retire(self.clock.now())
            await uow.commit()
        return item

    async def get_item(self, item_id: uuid.UUID, *, include_retired: bool) -> Item:
        async with self.uow() as uow:
            item = await uow.items.get(item_id)
        if item is None or (item.status != Status.ACTIVE and not include_retired):
            raise NotFound(f"no item {item_id}")
        return item

    async def list_items(self, *, status: Status | None, page: PageRequest) -> Slice[Item]:
        async with self.uow() as uow:
            return await uow.items.page(status=status, page=page)

    @staticmethod
    async def _load(uow, item_id: uuid.UUID) -> Item:
        item = await uow.items.get(item_id, for_update=True)
        if item is None:
            raise NotFound(f"no item {item_id}")
        return item
