from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog.domain.events import ItemPublished, ItemRetired
from catalog.domain.items import Item, Status
from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import InvalidTransition

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def make(**over):
    base = dict(
        sku="SEO",
        name="SEO boost",
        description="",
        price=Decimal("49.90"),
        currency="EUR",
        billing="recurring",
        billing_period_months=1,
        now=NOW,
    )
    return Item.create(**{**base, **over})


def test_create_raises_a_publication():
    item = make()
    assert item.status == Status.ACTIVE and item.revision == 1
    assert [type(e) for e in item.events] == [ItemPublished] and item.events[0].revision == 1


@pytest.mark.parametrize(
    "over, field",
    [
        ({"price": Decimal("-1")}, "price"),
        ({"price": Decimal("1.001")}, "price"),
        ({"currency": "XXX"}, "currency"),
        ({"billing_period_months": None}, "billing_period_months"),
        ({"billing": "one_time", "billing_period_months": 3}, "billing_period_months"),
        ({"sku": "  "}, "sku"),
    ],
)
def test_invalid_items_name_the_field(over, field):
    with pytest.raises(InvalidInput) as err:
        make(**over)
    assert err.value.field == field


def test_change_bumps_revision_and_one_time_drops_period():
    item = make()
    item.change(NOW, billing="one_time")
    assert item.billing_period_months is None and item.revision == 2
    assert item.events[-1].billing == "one_time" and item.events[-1].revision == 2


def test_retired_item_cannot_change_or_retire_again():
    item = make()
    item.retire(NOW)
    with pytest.raises(InvalidTransition) as changed:
        item.change(NOW, name="x")
    with pytest.raises(InvalidTransition) as retired:
        item.retire(NOW)
    assert changed.value.extra["current_status"] == retired.value.extra["current_status"] == "retired"
    assert [type(e) for e in item.events] == [ItemPublished, ItemRetired] and item.revision == 2
