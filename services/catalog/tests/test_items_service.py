"""Catalog's use cases on a fake unit of work (no database, milliseconds): what each one stores
and publishes, and what it refuses."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog.adapters.events import to_contract
from catalog.domain.items import Item, Status
from catalog.service.items import CatalogService, CreateItem
from portal_contracts.events.catalog import CatalogItemPublished, CatalogItemRetired
from portal_runtime.clock import FrozenClock
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.lifecycle import InvalidTransition
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.testing import FakeUnitOfWork, FakeUnitsOfWork

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class FakeItems:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[uuid.UUID, Item] = {}

    async def get(self, item_id, *, for_update=False):
        found = self.rows.get(item_id)
        return self.uow.track(copy.deepcopy(found), self) if found else None

    def add(self, item):
        return self.uow.track(item, self)

    async def sku_taken(self, sku, *, other_than=None):
        return any(i.sku == sku and i.id != other_than for i in self.rows.values())

    async def save(self, item):
        self.rows[item.id] = copy.deepcopy(item)

    async def page(self, *, status, page):
        found = sorted((i for i in self.rows.values() if status is None or i.status == status), key=lambda i: i.name)
        return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)


class FakeCatalogUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__(to_contract)
        self.items = FakeItems(self)


@pytest.fixture
def uow() -> FakeCatalogUnitOfWork:
    return FakeCatalogUnitOfWork()


@pytest.fixture
def catalog(uow) -> CatalogService:
    return CatalogService(FakeUnitsOfWork(uow), FrozenClock(NOW))


def listing(sku: str = "SEO-1") -> CreateItem:
    return CreateItem(
        sku=sku,
        name="SEO boost",
        description="",
        price=Decimal("49.90"),
        currency="EUR",
        billing="recurring",
        billing_period_months=1,
    )


async def test_create_stores_the_item_and_publishes_it(catalog, uow):
    item = await catalog.create_item(listing())
    assert uow.items.rows[item.id].status == Status.ACTIVE and uow.commits == 1
    [published] = uow.published
    assert isinstance(published, CatalogItemPublished)
    assert (published.item_id, published.price.amount, published.revision) == (item.id, Decimal("49.90"), 1)


async def test_a_taken_sku_is_refused_naming_the_field_and_nothing_is_published(catalog, uow):
    await catalog.create_item(listing())
    uow.published.clear()
    with pytest.raises(Conflict) as taken:
        await catalog.create_item(listing())
    assert taken.value.field == "sku" and uow.published == [] and len(uow.items.rows) == 1


async def test_a_change_publishes_the_new_revision_with_the_new_price(catalog, uow):
    item = await catalog.create_item(listing())
    changed = await catalog.change_item(item.id, {"price": Decimal("59.90")})
    assert changed.revision == 2 and uow.items.rows[item.id].price == Decimal("59.90")
    assert [(e.revision, e.price.amount) for e in uow.published] == [(1, Decimal("49.90")), (2, Decimal("59.90"))]


async def test_retire_publishes_once_and_a_second_retire_is_a_409_that_changes_nothing(catalog, uow):
    item = await catalog.create_item(listing())
    await catalog.retire_item(item.id)
    with pytest.raises(InvalidTransition) as again:
        await catalog.retire_item(item.id)
    assert again.value.status_code == 409 and again.value.extra["current_status"] == "retired"
    assert [type(e) for e in uow.published] == [CatalogItemPublished, CatalogItemRetired]
    assert uow.items.rows[item.id].revision == 2


async def test_customers_do_not_see_retired_items_and_unknown_ones_are_404(catalog):
    item = await catalog.create_item(listing())
    await catalog.retire_item(item.id)
    with pytest.raises(NotFound):
        await catalog.get_item(item.id, include_retired=False)
    assert (await catalog.get_item(item.id, include_retired=True)).status == Status.RETIRED
    with pytest.raises(NotFound):
        await catalog.change_item(uuid.uuid4(), {"name": "x"})
    page = await catalog.list_items(status=Status.ACTIVE, page=PageRequest(10, 0))
    assert page.total == 0 and page.items == []
