"""Loading and storing items, inside a unit of work (which tracks what it loads and adds)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from catalog.adapters.tables import ItemRow
from catalog.domain.items import Item, Status
from portal_runtime.errors import Conflict
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitOfWork, repository

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
    item = Item(**{f: getattr(row, f) for f in _FIELDS})
    item.status = Status(item.status)
    return item


class ItemRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Item | None:
        stmt = select(ItemRow).where(ItemRow.id == item_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return self.uow.track(_to_domain(row), self) if row else None

    def add(self, item: Item) -> Item:
        return self.uow.track(item, self)

    async def sku_taken(self, sku: str, *, other_than: uuid.UUID | None = None) -> bool:
        stmt = select(func.count()).select_from(ItemRow).where(ItemRow.sku == sku)
        if other_than:
            stmt = stmt.where(ItemRow.id != other_than)
        return bool(await self.session.scalar(stmt))

    async def save(self, item: Item) -> None:
        row = await self.session.get(ItemRow, item.id)
        if row is None:
            row = ItemRow()
            self.session.add(row)
        for f in _FIELDS:
            setattr(row, f, getattr(item, f))
        row.updated_at = self.uow.now
        try:
            await self.session.flush()
        except IntegrityError as exc:  # two creates with one SKU at once: the unique index decides
            if "uq_items_sku" in str(exc.orig):
                raise Conflict(f"sku {item.sku!r} is taken", field="sku") from None
            raise

    async def page(self, *, status: Status | None, page: PageRequest) -> Slice[Item]:
        stmt = select(ItemRow).order_by(ItemRow.name, ItemRow.id)
        if status:
            stmt = stmt.where(ItemRow.status == status)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice([_to_domain(r) for r in rows], total, page.limit, page.offset)


class CatalogUnitOfWork(UnitOfWork):
    items = repository(ItemRepository)
