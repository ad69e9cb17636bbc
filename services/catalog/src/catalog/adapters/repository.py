"""Loading and storing items, inside a unit of work (which tracks what it loads and adds)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from catalog.adapters.tables import ItemParentRow, ItemPriceRow, ItemRow
from catalog.domain.items import Cycle, CyclePrice, Item, Kind, Status
from portal_runtime.errors import Conflict
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitOfWork, repository

_FIELDS = (
    "id",
    "sku",
    "name",
    "description",
    "kind",
    "currency",
    "units",
    "max_per_parent",
    "featured",
    "status",
    "revision",
    "created_at",
)


class ItemRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Item | None:
        stmt = select(ItemRow).where(ItemRow.id == item_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        [item] = await self._to_domain([row])
        return self.uow.track(item, self)

    def add(self, item: Item) -> Item:
        return self.uow.track(item, self)

    async def sku_taken(self, sku: str, *, other_than: uuid.UUID | None = None) -> bool:
        stmt = select(func.count()).select_from(ItemRow).where(ItemRow.sku == sku)
        if other_than:
            stmt = stmt.where(ItemRow.id != other_than)
        return bool(await self.session.scalar(stmt))

    async def kinds(self, item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[Kind, Status]]:
        """The kind and status of each of `item_ids` that exists (locked: share, so a parent
        cannot change kind while an add-on is being attached to it)."""
        ids = list(set(item_ids))
        if not ids:
            return {}
        stmt = select(ItemRow.id, ItemRow.kind, ItemRow.status).where(ItemRow.id.in_(ids)).with_for_update(read=True)
        return {r.id: (Kind(r.kind), Status(r.status)) for r in await self.session.execute(stmt)}

    async def add_ons_of(self, item_id: uuid.UUID) -> list[str]:
        """The SKUs of the active add-ons that may be added to `item_id`."""
        stmt = (
            select(ItemRow.sku)
            .join(ItemParentRow, ItemParentRow.item_id == ItemRow.id)
            .where(ItemParentRow.parent_id == item_id, ItemRow.status == Status.ACTIVE)
            .order_by(ItemRow.sku)
        )
        return list(await self.session.scalars(stmt))

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
        await self.session.execute(delete(ItemPriceRow).where(ItemPriceRow.item_id == item.id))
        await self.session.execute(delete(ItemParentRow).where(ItemParentRow.item_id == item.id))
        await self.session.execute(
            insert(ItemPriceRow),
            [
                {"item_id": item.id, "cycle": p.cycle, "position": n, "price": p.price}
                for n, p in enumerate(item.prices)
            ],
        )
        if item.parents:
            await self.session.execute(
                insert(ItemParentRow),
                [{"item_id": item.id, "parent_id": p, "position": n} for n, p in enumerate(item.parents)],
            )

    async def page(self, *, status: Status | None, featured: bool, page: PageRequest) -> Slice[Item]:
        stmt = select(ItemRow).order_by(ItemRow.name, ItemRow.id)
        if status:
            stmt = stmt.where(ItemRow.status == status)
        if featured:
            stmt = stmt.where(ItemRow.featured.is_not(None))
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice(await self._to_domain(rows), total, page.limit, page.offset)

    async def _to_domain(self, rows: list[ItemRow]) -> list[Item]:
        ids = [r.id for r in rows]
        prices: dict[uuid.UUID, list[CyclePrice]] = defaultdict(list)
        parents: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        if ids:
            found = await self.session.scalars(
                select(ItemPriceRow).where(ItemPriceRow.item_id.in_(ids)).order_by(ItemPriceRow.position)
            )
            for p in found:
                prices[p.item_id].append(CyclePrice(Cycle(p.cycle), p.price))
            links = await self.session.scalars(
                select(ItemParentRow).where(ItemParentRow.item_id.in_(ids)).order_by(ItemParentRow.position)
            )
            for link in links:
                parents[link.item_id].append(link.parent_id)
        items = []
        for row in rows:
            item = Item(**{f: getattr(row, f) for f in _FIELDS}, prices=prices[row.id], parents=parents[row.id])
            item.status, item.kind = Status(item.status), Kind(item.kind)
            items.append(item)
        return items


class CatalogUnitOfWork(UnitOfWork):
    items = repository(ItemRepository)
