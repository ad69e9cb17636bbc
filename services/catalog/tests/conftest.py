"""The example item of catalog's tests, which the domain's and the use cases' tests both create:
a monthly service, given as the old single-price input (price + billing + period); and the fake
unit of work (items, access groups, documents in memory) the use cases' tests run on."""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog.adapters.events import to_contract
from catalog.domain.access import document_visible, visible_items
from catalog.domain.items import Item, Status
from catalog.service.access import AccessService
from catalog.service.documents import DocumentService
from catalog.service.items import CatalogService
from portal_runtime.clock import FrozenClock
from portal_runtime.paging import Slice
from portal_runtime.testing import FakeRepository, FakeUnitOfWork, FakeUnitsOfWork

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def seo_boost() -> dict:
    return {
        "sku": "SEO",
        "name": "SEO boost",
        "description": "",
        "price": Decimal("49.90"),
        "currency": "EUR",
        "billing": "recurring",
        "billing_period_months": 1,
    }


# -- fakes of catalog's unit of work (no database): the use cases' tests ------------------------
class FakeItems:
    def __init__(self, uow: FakeCatalogUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[uuid.UUID, Item] = {}

    def _visible(self, item_id: uuid.UUID, account_id: str | None) -> bool:
        if account_id is None:
            return True
        groups = [g for g in self.uow.groups.rows.values() if account_id in g.account_ids]
        visible = visible_items(groups)
        return visible is None or item_id in visible

    async def get(self, item_id, *, for_update=False, visible_to=None):
        found = self.rows.get(item_id)
        if found is None or not self._visible(item_id, visible_to):
            return None
        return self.uow.track(copy.deepcopy(found), self)

    def add(self, item):
        return self.uow.track(item, self)

    async def sku_taken(self, sku, *, other_than=None):
        return any(i.sku == sku and i.id != other_than for i in self.rows.values())

    async def kinds(self, item_ids):
        return {i: (self.rows[i].kind, self.rows[i].status) for i in item_ids if i in self.rows}

    async def add_ons_of(self, item_id):
        found = (i for i in self.rows.values() if item_id in i.parents and i.status == Status.ACTIVE)
        return sorted(i.sku for i in found)

    async def existing(self, item_ids):
        return {i for i in item_ids if i in self.rows}

    async def many(self, item_ids, *, visible_to=None):
        return {i: copy.deepcopy(self.rows[i]) for i in item_ids if i in self.rows and self._visible(i, visible_to)}

    async def save(self, item):
        self.rows[item.id] = copy.deepcopy(item)

    async def page(self, *, status, featured, page, q=None, visible_to=None):
        def matches(i: Item) -> bool:
            text = f"{i.name}\n{i.sku}\n{i.description}".casefold()
            return all(word.casefold() in text for word in (q or "").split())

        found = sorted(
            (
                i
                for i in self.rows.values()
                if status in (None, i.status)
                and (i.featured or not featured)
                and matches(i)
                and self._visible(i.id, visible_to)
            ),
            key=lambda i: i.name,
        )
        return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)


class FakeGroups(FakeRepository):
    async def existing(self, group_ids):
        return {g for g in group_ids if g in self.rows}

    async def documents_of(self, group_id):
        return sorted(d.id for d in self.uow.documents.rows.values() if group_id in d.group_ids)

    async def page(self, page, *, account_id=None):
        found = sorted(
            (g for g in self.rows.values() if account_id is None or account_id in g.account_ids),
            key=lambda g: (g.name, g.id),
        )
        return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)

    async def save(self, group):
        if group.deleted:
            self.rows.pop(group.id, None)
        else:
            await super().save(group)


class FakeDocuments(FakeRepository):
    def __init__(self, uow) -> None:
        super().__init__(uow)
        self.contents: dict[uuid.UUID, bytes] = {}

    def _visible(self, document, account_id):
        if account_id is None:
            return True
        groups = [g.id for g in self.uow.groups.rows.values() if account_id in g.account_ids]
        return document_visible(document.group_ids, groups)

    async def get(self, document_id, *, for_update=False, visible_to=None):
        found = self.rows.get(document_id)
        if found is None or not self._visible(found, visible_to):
            return None
        return self.uow.track(copy.deepcopy(found), self)

    async def content(self, document_id):
        return self.contents[document_id]

    async def page(self, page, *, visible_to=None):
        found = [d for d in self.rows.values() if self._visible(d, visible_to)]
        found.sort(key=lambda d: (d.created_at, d.id), reverse=True)
        return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)

    async def save(self, document):
        if document.deleted:
            self.rows.pop(document.id, None)
            self.contents.pop(document.id, None)
            return
        if document.content is not None:
            self.contents[document.id] = document.content
        await super().save(replace(document, content=None))


class FakeCatalogUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__(to_contract)
        self.items = FakeItems(self)
        self.groups = FakeGroups(self)
        self.documents = FakeDocuments(self)


@pytest.fixture
def uow() -> FakeCatalogUnitOfWork:
    return FakeCatalogUnitOfWork()


@pytest.fixture
def catalog(uow) -> CatalogService:
    return CatalogService(FakeUnitsOfWork(uow), FrozenClock(NOW))


@pytest.fixture
def access(uow) -> AccessService:
    return AccessService(FakeUnitsOfWork(uow), FrozenClock(NOW))


@pytest.fixture
def documents(uow) -> DocumentService:
    return DocumentService(FakeUnitsOfWork(uow), FrozenClock(NOW))
