"""Loading and storing items."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.tables import ItemRow
from catalog.domain.items import Item

_FIELDS = (
    "id",
    "sku",
    "name",
    "description",
    "price",
    "currency",
    "billing",
    "billing_period_months",
    "status",
    "revision",
    "created_at",
)


def _to_domain(row: ItemRow) -> Item:
    return Item(**{f: getattr(row, f) for f in _FIELDS})


class ItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Item | None:
        stmt = select(ItemRow).where(ItemRow.id == item_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return _to_domain(row) if row else None

    async def sku_taken(self, sku: str, *, other_than: uuid.UUID | None = None) -> bool:
        stmt = select(func.count()).select_from(ItemRow).where(ItemRow.sku == sku)
        if other_than:
            stmt = stmt.where(ItemRow.id != other_than)
        return bool(await self.session.scalar(stmt))

    async def save(self, item: Item, now) -> None:
        row = await self.session.get(ItemRow, item.id)
        if row is None:
            row = ItemRow(updated_at=now)
            self.session.add(row)
        for f in _FIELDS:
            setattr(row, f, getattr(item, f))
        row.updated_at = now

    async def page(self, *, status: str | None, limit: int, offset: int) -> tuple[list[Item], int]:
        stmt = select(ItemRow)
        if status:
            stmt = stmt.where(ItemRow.status == status)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = await self.session.scalars(stmt.order_by(ItemRow.name, ItemRow.id).limit(limit).offset(offset))
        return [_to_domain(r) for r in rows], total or 0
