"""Loading and storing items, inside a unit of work (which tracks what it loads and adds)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, exists, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from catalog.adapters.access_tables import (
    AccessGroupAccountRow,
    AccessGroupItemRow,
    AccessGroupRow,
    DocumentGroupRow,
    DocumentRow,
)
from catalog.adapters.tables import ItemParentRow, ItemPriceRow, ItemRow
from catalog.domain.access import AccessGroup
from catalog.domain.documents import Document
from catalog.domain.items import Cycle, CyclePrice, Item, Kind, Status, canonical_rate
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
    "tax_rate",
    "status",
    "revision",
    "created_at",
)


def visible_condition(account_id: str) -> ColumnElement[bool]:
    """The visibility rule on `items` in SQL: an account in no access group sees every item (the
    caller asks for active ones); one in groups sees only the union of their items."""
    in_no_group = ~exists().where(AccessGroupAccountRow.account_id == account_id)
    in_its_groups = ItemRow.id.in_(
        select(AccessGroupItemRow.item_id)
        .join(AccessGroupAccountRow, AccessGroupAccountRow.group_id == AccessGroupItemRow.group_id)
        .where(AccessGroupAccountRow.account_id == account_id)
    )
    return or_(in_no_group, in_its_groups)


def _like(term: str) -> str:
    """`term` as an ILIKE pattern matching it anywhere, its own % _ and \\ taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ItemRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False, visible_to: str | None = None) -> Item | None:
        """The item; with `visible_to` (a customer's account), only an item that account may see."""
        stmt = select(ItemRow).where(ItemRow.id == item_id)
        if visible_to is not None:
            stmt = stmt.where(visible_condition(visible_to))
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
        row.attributes = [[name, value] for name, value in item.attributes.items()]
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

    async def existing(self, item_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `item_ids` are items of the catalog (any status)."""
        ids = list(set(item_ids))
        if not ids:
            return set()
        return set(await self.session.scalars(select(ItemRow.id).where(ItemRow.id.in_(ids))))

    async def many(self, item_ids: Iterable[uuid.UUID], *, visible_to: str | None = None) -> dict[uuid.UUID, Item]:
        """The items of `item_ids` that exist (with `visible_to`: that the account may see), by id."""
        ids = list(set(item_ids))
        if not ids:
            return {}
        stmt = select(ItemRow).where(ItemRow.id.in_(ids))
        if visible_to is not None:
            stmt = stmt.where(visible_condition(visible_to))
        return {i.id: i for i in await self._to_domain(list(await self.session.scalars(stmt)))}

    async def page(
        self,
        *,
        status: Status | None,
        featured: bool,
        page: PageRequest,
        q: str | None = None,
        visible_to: str | None = None,
    ) -> Slice[Item]:
        """Items of `status` (any when None); `featured`: only featured ones; `q`: each of its words in
        the name, SKU or description (any case); `visible_to`: only what that account may see."""
        stmt = select(ItemRow).order_by(ItemRow.name, ItemRow.id)
        if status:
            stmt = stmt.where(ItemRow.status == status)
        if featured:
            stmt = stmt.where(ItemRow.featured.is_not(None))
        for word in (q or "").split():
            pattern = _like(word)
            stmt = stmt.where(
                or_(
                    ItemRow.name.ilike(pattern, escape="\\"),
                    ItemRow.sku.ilike(pattern, escape="\\"),
                    ItemRow.description.ilike(pattern, escape="\\"),
                )
            )
        if visible_to is not None:
            stmt = stmt.where(visible_condition(visible_to))
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
            item = Item(
                **{f: getattr(row, f) for f in _FIELDS},
                prices=prices[row.id],
                parents=parents[row.id],
                attributes={name: value for name, value in row.attributes or []},
            )
            item.status, item.kind = Status(item.status), Kind(item.kind)
            item.tax_rate = canonical_rate(item.tax_rate)
            items.append(item)
        return items


class AccessGroupRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def get(self, group_id: uuid.UUID, *, for_update: bool = False) -> AccessGroup | None:
        stmt = select(AccessGroupRow).where(AccessGroupRow.id == group_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        [group] = await self._to_domain([row])
        return self.uow.track(group, self)

    def add(self, group: AccessGroup) -> AccessGroup:
        return self.uow.track(group, self)

    async def existing(self, group_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        ids = list(set(group_ids))
        if not ids:
            return set()
        # locked (share): a group cannot be deleted while a document is being made to name it
        stmt = select(AccessGroupRow.id).where(AccessGroupRow.id.in_(ids)).with_for_update(read=True)
        return set(await self.session.scalars(stmt))

    async def documents_of(self, group_id: uuid.UUID) -> list[uuid.UUID]:
        """The documents that name the group (visible to its accounts)."""
        stmt = select(DocumentGroupRow.document_id).where(DocumentGroupRow.group_id == group_id)
        return list(await self.session.scalars(stmt.order_by(DocumentGroupRow.document_id)))

    async def page(self, page: PageRequest, *, account_id: str | None = None) -> Slice[AccessGroup]:
        """Groups by name; with `account_id`, the ones that account is assigned to."""
        stmt = select(AccessGroupRow).order_by(AccessGroupRow.name, AccessGroupRow.id)
        if account_id is not None:
            stmt = stmt.where(
                AccessGroupRow.id.in_(
                    select(AccessGroupAccountRow.group_id).where(AccessGroupAccountRow.account_id == account_id)
                )
            )
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice(await self._to_domain(rows), total, page.limit, page.offset)

    async def save(self, group: AccessGroup) -> None:
        row = await self.session.get(AccessGroupRow, group.id)
        if group.deleted:
            if row is not None:
                await self.session.delete(row)
                await self.session.flush()
            return
        if row is None:
            row = AccessGroupRow(id=group.id, created_at=group.created_at or self.uow.now)
            self.session.add(row)
        row.name, row.revision, row.updated_at = group.name, group.revision, group.updated_at or self.uow.now
        await self.session.flush()
        await self.session.execute(delete(AccessGroupItemRow).where(AccessGroupItemRow.group_id == group.id))
        await self.session.execute(delete(AccessGroupAccountRow).where(AccessGroupAccountRow.group_id == group.id))
        if group.item_ids:
            await self.session.execute(
                insert(AccessGroupItemRow),
                [{"group_id": group.id, "item_id": i, "position": n} for n, i in enumerate(group.item_ids)],
            )
        if group.account_ids:
            await self.session.execute(
                insert(AccessGroupAccountRow),
                [{"group_id": group.id, "account_id": a, "position": n} for n, a in enumerate(group.account_ids)],
            )

    async def _to_domain(self, rows: list[AccessGroupRow]) -> list[AccessGroup]:
        ids = [r.id for r in rows]
        items: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        accounts: dict[uuid.UUID, list[str]] = defaultdict(list)
        if ids:
            stmt = select(AccessGroupItemRow).where(AccessGroupItemRow.group_id.in_(ids))
            for link in await self.session.scalars(stmt.order_by(AccessGroupItemRow.position)):
                items[link.group_id].append(link.item_id)
            stmt = select(AccessGroupAccountRow).where(AccessGroupAccountRow.group_id.in_(ids))
            for link in await self.session.scalars(stmt.order_by(AccessGroupAccountRow.position)):
                accounts[link.group_id].append(link.account_id)
        return [
            AccessGroup(
                id=r.id,
                name=r.name,
                item_ids=items[r.id],
                account_ids=accounts[r.id],
                revision=r.revision,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ]


def document_visible_to(account_id: str) -> ColumnElement[bool]:
    """The documents' rule in SQL: one naming no group is everyone's; else only its groups' accounts'."""
    return or_(
        ~exists().where(DocumentGroupRow.document_id == DocumentRow.id),
        exists().where(
            DocumentGroupRow.document_id == DocumentRow.id,
            AccessGroupAccountRow.group_id == DocumentGroupRow.group_id,
            AccessGroupAccountRow.account_id == account_id,
        ),
    )


_DOCUMENT_FIELDS = ("id", "title", "filename", "content_type", "size", "revision", "created_by", "created_at")


class DocumentRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def get(
        self, document_id: uuid.UUID, *, for_update: bool = False, visible_to: str | None = None
    ) -> Document | None:
        """The document without its bytes; with `visible_to`, only if that account may see it."""
        stmt = select(DocumentRow).where(DocumentRow.id == document_id)
        if visible_to is not None:
            stmt = stmt.where(document_visible_to(visible_to))
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        [document] = await self._to_domain([row])
        return self.uow.track(document, self)

    async def content(self, document_id: uuid.UUID) -> bytes:
        return await self.session.scalar(select(DocumentRow.content).where(DocumentRow.id == document_id))

    def add(self, document: Document) -> Document:
        return self.uow.track(document, self)

    async def page(self, page: PageRequest, *, visible_to: str | None = None) -> Slice[Document]:
        """Newest first; with `visible_to`, only what that account may see."""
        stmt = select(DocumentRow).order_by(DocumentRow.created_at.desc(), DocumentRow.id)
        if visible_to is not None:
            stmt = stmt.where(document_visible_to(visible_to))
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice(await self._to_domain(rows), total, page.limit, page.offset)

    async def save(self, document: Document) -> None:
        row = await self.session.get(DocumentRow, document.id)
        if document.deleted:
            if row is not None:
                await self.session.delete(row)
                await self.session.flush()
            return
        if row is None:
            row = DocumentRow(content=document.content)
            self.session.add(row)
        for f in _DOCUMENT_FIELDS:
            setattr(row, f, getattr(document, f))
        row.updated_at = document.updated_at or self.uow.now
        await self.session.flush()
        await self.session.execute(delete(DocumentGroupRow).where(DocumentGroupRow.document_id == document.id))
        if document.group_ids:
            await self.session.execute(
                insert(DocumentGroupRow), [{"document_id": document.id, "group_id": g} for g in document.group_ids]
            )

    async def _to_domain(self, rows: list[DocumentRow]) -> list[Document]:
        ids = [r.id for r in rows]
        groups: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        if ids:
            stmt = select(DocumentGroupRow).where(DocumentGroupRow.document_id.in_(ids))
            for link in await self.session.scalars(stmt.order_by(DocumentGroupRow.group_id)):
                groups[link.document_id].append(link.group_id)
        return [
            Document(**{f: getattr(r, f) for f in _DOCUMENT_FIELDS}, updated_at=r.updated_at, group_ids=groups[r.id])
            for r in rows
        ]


class CatalogUnitOfWork(UnitOfWork):
    items = repository(ItemRepository)
    groups = repository(AccessGroupRepository)
    documents = repository(DocumentRepository)
