"""Use cases of the catalog: one transaction each; the state and its events commit together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.adapters.events import to_contract
from catalog.adapters.repository import ItemRepository
from catalog.domain.items import Item
from portal_runtime.clock import Clock
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.outbox import Outbox


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
    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox, clock: Clock) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.clock = clock

    async def create_item(self, cmd: CreateItem, *, correlation_id: uuid.UUID | None = None) -> Item:
        now = self.clock.now()
        item = Item.create(**vars(cmd), now=now)
        async with self.sessions() as session, session.begin():
            repo = ItemRepository(session)
            if await repo.sku_taken(item.sku):
                raise Conflict(f"sku {item.sku!r} is taken", field="sku")
            await repo.save(item, now)
            self._stage(session, item, correlation_id)
        return item

    async def change_item(self, item_id: uuid.UUID, changes: dict, *, correlation_id: uuid.UUID | None = None) -> Item:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            repo = ItemRepository(session)
            item = await self._load(repo, item_id)
            if "sku" in changes and await repo.sku_taken(changes["sku"], other_than=item_id):
                raise Conflict(f"sku {changes['sku']!r} is taken", field="sku")
            item.change(**changes)
            await repo.save(item, now)
            self._stage(session, item, correlation_id)
        return item

    async def retire_item(self, item_id: uuid.UUID, *, correlation_id: uuid.UUID | None = None) -> Item:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            repo = ItemRepository(session)
            item = await self._load(repo, item_id)
            item.retire()
            await repo.save(item, now)
            self._stage(session, item, correlation_id)
        return item

    async def get_item(self, item_id: uuid.UUID, *, include_retired: bool) -> Item:
        async with self.sessions() as session:
            item = await ItemRepository(session).get(item_id)
        if item is None or (item.status != "active" and not include_retired):
            raise NotFound(f"no item {item_id}")
        return item

    async def list_items(self, *, status: str | None, limit: int, offset: int) -> tuple[list[Item], int]:
        async with self.sessions() as session:
            return await ItemRepository(session).page(status=status, limit=limit, offset=offset)

    async def _load(self, repo: ItemRepository, item_id: uuid.UUID) -> Item:
        item = await repo.get(item_id, for_update=True)
        if item is None:
            raise NotFound(f"no item {item_id}")
        return item

    def _stage(self, session: AsyncSession, item: Item, correlation_id: uuid.UUID | None) -> None:
        for change in item.changes:
            self.outbox.stage(session, to_contract(item, change, self.clock.now()), correlation_id=correlation_id)
        item.changes.clear()
