"""An item's tax rate (issue 16): a fraction 0 ≤ rate < 1 with at most 4 places (else 422 naming
`tax_rate`; absent or null: not taxed), set on create and change, answered, and published in
CatalogItemPublished.tax_rate, which orders' copy keeps. The domain alone, then over HTTP on real
PostgreSQL and Kafka."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog.adapters.events import to_contract
from catalog.bootstrap import definition as catalog
from catalog.domain.events import ItemPublished
from catalog.domain.items import Item
from orders.adapters.tables import OfferedItemRow
from orders.bootstrap import definition as orders
from portal_runtime.db import OutboxRecord
from portal_runtime.errors import InvalidInput
from portal_runtime.testing import bearer, eventually, running_service

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ADMIN = bearer("ops", "admin")


@pytest.fixture
def make(seo_boost):
    return lambda **over: Item.create(**{**seo_boost, "now": NOW, **over})


def test_an_item_is_untaxed_unless_given_a_rate(make):
    item = make()
    assert item.tax_rate is None
    assert to_contract(item.events[0]).tax_rate is None


@pytest.mark.parametrize("rate, shown", [("0.19", "0.19"), ("0.07", "0.07"), ("0", "0.00"), ("0.0750", "0.075")])
def test_a_rate_is_kept_and_published(make, rate, shown):
    item = make(tax_rate=rate)
    assert str(item.tax_rate) == shown
    published = to_contract(item.events[0])
    assert published.model_dump(mode="json")["tax_rate"] == shown


@pytest.mark.parametrize("rate", ["1", "1.5", "-0.1", "0.12345", "abc"])
def test_a_rate_out_of_range_or_with_more_places_is_a_422_naming_tax_rate(make, rate):
    with pytest.raises(InvalidInput) as err:
        make(tax_rate=rate)
    assert err.value.field == "tax_rate"


def test_a_change_sets_or_clears_the_rate_and_a_refused_one_changes_nothing(make):
    item = make(tax_rate="0.19")
    item.change(NOW, tax_rate=Decimal("0.07"))
    assert (item.tax_rate, item.revision, item.events[-1].tax_rate) == (Decimal("0.07"), 2, Decimal("0.07"))
    with pytest.raises(InvalidInput) as err:
        item.change(NOW, tax_rate=Decimal("1.00"))
    assert (err.value.field, item.tax_rate, item.revision) == ("tax_rate", Decimal("0.07"), 2)
    item.change(NOW, tax_rate=None)
    assert item.tax_rate is None and isinstance(item.events[-1], ItemPublished) and item.events[-1].tax_rate is None


def paper(sku: str, **more) -> dict:
    return {
        "sku": sku,
        "name": "Paper A4",
        "kind": "good",
        "currency": "EUR",
        "prices": [{"cycle": "one_time", "price": "4.50"}],
        **more,
    }


async def test_the_rate_over_http_is_answered_published_and_copied_by_orders(new_database, kafka):
    async with (
        running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka) as (cat, http),
        running_service(orders(), database_url=await new_database("orders"), kafka=kafka) as (ords, _),
    ):
        sku = f"PAPER-{uuid.uuid4().hex[:6]}"
        made = await http.post("/v1/admin/items", json=paper(sku, tax_rate="0.19"), headers=ADMIN)
        assert made.status_code == 201 and made.json()["tax_rate"] == "0.19", made.text
        item_id = made.json()["id"]
        assert (await http.get(f"/v1/items/{item_id}", headers=ADMIN)).json()["tax_rate"] == "0.19"
        untaxed = await http.post("/v1/admin/items", json=paper(f"{sku}-U"), headers=ADMIN)
        assert untaxed.status_code == 201 and untaxed.json()["tax_rate"] is None, untaxed.text

        for rate in ("1", "0.12345", "1.0"):
            refused = await http.post("/v1/admin/items", json=paper(f"{sku}-X", tax_rate=rate), headers=ADMIN)
            assert (refused.status_code, refused.json().get("field")) == (422, "tax_rate"), refused.text
        refused = await http.patch(f"/v1/admin/items/{item_id}", json={"tax_rate": "2"}, headers=ADMIN)
        assert (refused.status_code, refused.json().get("field")) == (422, "tax_rate"), refused.text
        number = await http.post("/v1/admin/items", json=paper(f"{sku}-N", tax_rate=0.19), headers=ADMIN)
        assert (number.status_code, number.json().get("field")) == (400, "tax_rate"), number.text  # text, not a number

        changed = await http.patch(f"/v1/admin/items/{item_id}", json={"tax_rate": "0.07"}, headers=ADMIN)
        assert (changed.status_code, changed.json()["tax_rate"], changed.json()["revision"]) == (200, "0.07", 2)
        async with cat.sessions() as s:
            staged = list(
                await s.scalars(
                    select(OutboxRecord.envelope).where(OutboxRecord.key == item_id).order_by(OutboxRecord.id)
                )
            )
        assert [(e["data"]["revision"], e["data"]["tax_rate"]) for e in staged] == [(1, "0.19"), (2, "0.07")]

        async def copied():
            async with ords.sessions() as s:
                row = await s.get(OfferedItemRow, uuid.UUID(item_id))
                return row if row and row.revision == 2 else None

        row = await eventually(copied, what="orders' copy with revision 2")
        assert row.tax_rate == Decimal("0.07")
        cleared = await http.patch(f"/v1/admin/items/{item_id}", json={"tax_rate": None}, headers=ADMIN)
        assert (cleared.status_code, cleared.json()["tax_rate"]) == (200, None), cleared.text
