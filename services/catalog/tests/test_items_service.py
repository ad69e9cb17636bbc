"""Catalog's use cases on a fake unit of work (no database, milliseconds): what each one stores
and publishes, and what it refuses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog.domain.items import Cycle, Kind, Status
from catalog.service.items import CreateItem
from portal_contracts.events.catalog import CatalogItemPublished, CatalogItemRetired
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.lifecycle import InvalidTransition
from portal_runtime.paging import PageRequest

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def listing(seo_boost):
    """The example item as a command, with another SKU."""
    return lambda sku="SEO-1": CreateItem(**{**seo_boost, "sku": sku})


async def test_create_stores_the_item_and_publishes_it(catalog, uow, listing):
    item = await catalog.create_item(listing())
    assert uow.items.rows[item.id].status == Status.ACTIVE and uow.commits == 1
    [published] = uow.published
    assert isinstance(published, CatalogItemPublished)
    assert (published.item_id, published.price.amount, published.revision) == (item.id, Decimal("49.90"), 1)


async def test_a_taken_sku_is_refused_naming_the_field_and_nothing_is_published(catalog, uow, listing):
    await catalog.create_item(listing())
    uow.published.clear()
    with pytest.raises(Conflict) as taken:
        await catalog.create_item(listing())
    assert taken.value.field == "sku" and uow.published == [] and len(uow.items.rows) == 1


async def test_a_change_publishes_the_new_revision_with_the_new_price(catalog, uow, listing):
    item = await catalog.create_item(listing())
    changed = await catalog.change_item(item.id, {"price": Decimal("59.90")})
    assert changed.revision == 2 and uow.items.rows[item.id].price == Decimal("59.90")
    assert [(e.revision, e.price.amount) for e in uow.published] == [(1, Decimal("49.90")), (2, Decimal("59.90"))]


async def test_retire_publishes_once_and_a_second_retire_is_a_409_that_changes_nothing(catalog, uow, listing):
    item = await catalog.create_item(listing())
    await catalog.retire_item(item.id)
    with pytest.raises(InvalidTransition) as again:
        await catalog.retire_item(item.id)
    assert again.value.status_code == 409 and again.value.extra["current_status"] == "retired"
    assert [type(e) for e in uow.published] == [CatalogItemPublished, CatalogItemRetired]
    assert uow.items.rows[item.id].revision == 2


async def test_customers_do_not_see_retired_items_and_unknown_ones_are_404(catalog, listing):
    item = await catalog.create_item(listing())
    await catalog.retire_item(item.id)
    with pytest.raises(NotFound):
        await catalog.get_item(item.id, include_retired=False)
    assert (await catalog.get_item(item.id, include_retired=True)).status == Status.RETIRED
    with pytest.raises(NotFound):
        await catalog.change_item(uuid.uuid4(), {"name": "x"})
    page = await catalog.list_items(status=Status.ACTIVE, page=PageRequest(10, 0))
    assert page.total == 0 and page.items == []


def priced(sku: str, kind: str, prices: list[tuple[str, str]], **more) -> CreateItem:
    return CreateItem(
        sku=sku,
        name=sku.title(),
        description="",
        currency="EUR",
        kind=kind,
        prices=[{"cycle": c, "price": Decimal(p)} for c, p in prices],
        **more,
    )


async def test_each_kind_is_stored_and_published_with_its_prices_units_and_parents(catalog, uow):
    hosting = await catalog.create_item(priced("HOST", "service", [("annual", "499.00"), ("monthly", "49.00")]))
    ssl = await catalog.create_item(priced("SSL", "add_on", [("annual", "20.00")], parents=[hosting.id]))
    sms = await catalog.create_item(priced("SMS-1000", "unit_package", [("one_time", "30.00")], units=1000))
    mug = await catalog.create_item(priced("MUG", "good", [("one_time", "9.90")]))
    assert [uow.items.rows[i.id].kind for i in (hosting, ssl, sms, mug)] == list(Kind)
    by_sku = {e.sku: e for e in uow.published}
    host = by_sku["HOST"]
    assert (host.kind, host.price.amount, host.billing, host.billing_period_months) == (
        "service",
        Decimal("499.00"),
        "recurring",
        12,
    )
    assert [(p.cycle, p.price) for p in host.prices] == [("annual", Decimal("499.00")), ("monthly", Decimal("49.00"))]
    assert host.price.currency == "EUR"
    assert (by_sku["SSL"].kind, by_sku["SSL"].parents) == ("add_on", [hosting.id])
    assert (by_sku["SMS-1000"].kind, by_sku["SMS-1000"].units) == ("unit_package", 1000)
    assert (by_sku["MUG"].kind, by_sku["MUG"].billing, by_sku["MUG"].units) == ("good", "one_time", None)


async def test_the_old_input_is_a_service_with_one_price_of_its_cycle(catalog, uow, listing):
    item = await catalog.create_item(listing())
    [published] = uow.published
    assert item.kind == Kind.SERVICE and [(p.cycle, p.price) for p in item.prices] == [
        (Cycle.MONTHLY, Decimal("49.90"))
    ]
    assert (published.kind, [p.cycle for p in published.prices], published.parents) == ("service", ["monthly"], [])


async def test_an_add_on_whose_parent_is_no_active_service_is_refused_naming_parents(catalog, uow):
    mug = await catalog.create_item(priced("MUG", "good", [("one_time", "9.90")]))
    old = await catalog.create_item(priced("OLD", "service", [("monthly", "5.00")]))
    await catalog.retire_item(old.id)
    uow.published.clear()
    for parent in (mug.id, old.id, uuid.uuid4()):
        with pytest.raises(InvalidInput) as refused:
            await catalog.create_item(priced("SSL", "add_on", [("annual", "20.00")], parents=[parent]))
        assert refused.value.field == "parents"
    assert uow.published == [] and len(uow.items.rows) == 2


async def test_a_service_with_add_ons_keeps_its_kind_and_an_add_on_changes_parents(catalog, uow):
    hosting = await catalog.create_item(priced("HOST", "service", [("monthly", "49.00")]))
    vps = await catalog.create_item(priced("VPS", "service", [("monthly", "19.00")]))
    ssl = await catalog.create_item(priced("SSL", "add_on", [("annual", "20.00")], parents=[hosting.id]))
    with pytest.raises(Conflict) as kept:
        await catalog.change_item(hosting.id, {"kind": "good", "prices": [{"cycle": "one_time", "price": "1.00"}]})
    assert kept.value.field == "kind" and uow.items.rows[hosting.id].kind == Kind.SERVICE
    with pytest.raises(InvalidInput) as itself:
        await catalog.change_item(ssl.id, {"parents": [ssl.id]})
    assert itself.value.field == "parents"
    changed = await catalog.change_item(ssl.id, {"parents": [vps.id, hosting.id]})
    assert changed.revision == 2 and uow.published[-1].parents == [vps.id, hosting.id]
    await catalog.change_item(ssl.id, {"kind": "service"})
    assert uow.items.rows[ssl.id].parents == [] and uow.published[-1].parents == []
    moved = await catalog.change_item(hosting.id, {"kind": "unit_package", "units": 5})
    assert (moved.kind, moved.units, uow.published[-1].units) == (Kind.UNIT_PACKAGE, 5, 5)


async def test_an_add_on_s_max_per_parent_is_stored_and_published_and_refused_for_another_kind(catalog, uow):
    host = await catalog.create_item(priced("HOST", "service", [("monthly", "49.00")]))
    ssl = await catalog.create_item(priced("SSL", "add_on", [("annual", "20.00")], parents=[host.id]))
    ips = await catalog.create_item(priced("IP", "add_on", [("monthly", "2.00")], parents=[host.id], max_per_parent=4))
    assert [uow.items.rows[i.id].max_per_parent for i in (host, ssl, ips)] == [None, 1, 4]
    assert [e.max_per_parent for e in uow.published] == [None, 1, 4]
    await catalog.change_item(ips.id, {"max_per_parent": None})
    assert uow.items.rows[ips.id].max_per_parent is None and uow.published[-1].max_per_parent is None
    assert uow.published[-1].revision == 2
    uow.published.clear()
    with pytest.raises(InvalidInput) as refused:
        await catalog.create_item(priced("VPS", "service", [("monthly", "9.00")], max_per_parent=2))
    with pytest.raises(InvalidInput) as changed:
        await catalog.change_item(host.id, {"max_per_parent": 2})
    assert refused.value.field == changed.value.field == "max_per_parent"
    assert uow.published == [] and uow.items.rows[host.id].revision == 1


TEXTS = {"en": "New: SSL", "tr": "Yeni: SSL", "de": "Neu: SSL", "pl": "Nowość: SSL"}


async def test_featuring_publishes_each_change_as_the_next_revision_and_the_same_texts_publish_nothing(
    catalog, uow, listing
):
    item = await catalog.create_item(listing())
    other = await catalog.create_item(listing("SEO-2"))
    featured = await catalog.feature_item(item.id, TEXTS)
    assert (featured.featured, uow.items.rows[item.id].featured, featured.revision) == (TEXTS, TEXTS, 2)
    assert [(e.item_id, e.revision, e.featured) for e in uow.published[2:]] == [(item.id, 2, TEXTS)]
    commits = uow.commits
    again = await catalog.feature_item(item.id, dict(TEXTS))
    assert (again.revision, uow.commits, len(uow.published)) == (2, commits, 3), "the same texts change nothing"
    listed = await catalog.list_items(status=Status.ACTIVE, featured=True, page=PageRequest(10, 0))
    every = await catalog.list_items(status=None, page=PageRequest(10, 0))
    assert ([i.id for i in listed.items], {i.id for i in every.items}) == ([item.id], {item.id, other.id})
    cleared = await catalog.unfeature_item(item.id)
    assert (cleared.featured, uow.items.rows[item.id].featured, cleared.revision) == (None, None, 3)
    assert [(e.revision, e.featured) for e in uow.published[3:]] == [(3, None)]
    assert (await catalog.unfeature_item(item.id)).revision == 3 and len(uow.published) == 4


async def test_only_an_active_item_is_featured_unknown_languages_are_refused_and_retiring_clears_it(
    catalog, uow, listing
):
    item = await catalog.create_item(listing())
    with pytest.raises(InvalidInput) as unknown:
        await catalog.feature_item(item.id, {**TEXTS, "fr": "Nouveau"})
    assert unknown.value.field == "texts.fr" and uow.items.rows[item.id].featured is None
    with pytest.raises(NotFound):
        await catalog.feature_item(uuid.uuid4(), TEXTS)
    await catalog.feature_item(item.id, TEXTS)
    await catalog.retire_item(item.id)
    assert uow.items.rows[item.id].featured is None
    with pytest.raises(InvalidTransition) as retired:
        await catalog.feature_item(item.id, TEXTS)
    assert retired.value.extra["current_status"] == "retired"
    assert [type(e).__name__ for e in uow.published] == ["CatalogItemPublished"] * 2 + ["CatalogItemRetired"]
    assert (await catalog.list_items(status=None, featured=True, page=PageRequest(10, 0))).total == 0
