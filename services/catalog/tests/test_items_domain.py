import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog.domain.events import ItemPublished, ItemRetired
from catalog.domain.items import Cycle, CyclePrice, Item, Kind, Status
from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import InvalidTransition

NOW = datetime(2026, 1, 1, tzinfo=UTC)
NO_OLD = {"price": None, "billing": None, "billing_period_months": None}


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


@pytest.mark.parametrize(
    "billing, months, cycle",
    [
        ("recurring", 1, Cycle.MONTHLY),
        ("recurring", 3, Cycle.QUARTERLY),
        ("recurring", 6, Cycle.SEMI_ANNUAL),
        ("recurring", 12, Cycle.ANNUAL),
        ("recurring", 24, Cycle.BIENNIAL),
        ("recurring", 36, Cycle.TRIENNIAL),
        ("one_time", None, Cycle.ONE_TIME),
    ],
)
def test_the_old_price_and_billing_are_one_price_of_their_cycle(billing, months, cycle):
    item = make(billing=billing, billing_period_months=months)
    assert item.kind == Kind.SERVICE and item.prices == [CyclePrice(cycle, Decimal("49.90"))]
    assert (item.price, item.billing, item.billing_period_months) == (Decimal("49.90"), billing, months)


def test_prices_per_cycle_read_the_primary_one_as_the_old_fields_and_are_published():
    item = Item.create(
        sku="HOST",
        name="Hosting",
        description="",
        currency="EUR",
        prices=[{"cycle": "annual", "price": Decimal("499.00")}, {"cycle": "monthly", "price": Decimal("49.00")}],
        now=NOW,
    )
    assert (item.price, item.billing, item.billing_period_months) == (Decimal("499.00"), "recurring", 12)
    [published] = item.events
    assert published.kind == "service" and published.units is None and published.parents == ()
    assert published.prices == ((Cycle.ANNUAL, Decimal("499.00")), (Cycle.MONTHLY, Decimal("49.00")))


def test_each_kind_with_what_it_needs():
    parent = uuid.uuid4()
    add_on = make(sku="SSL", kind="add_on", parents=[parent, parent])
    package = make(sku="SMS-1000", kind="unit_package", units=1000, billing="one_time", billing_period_months=None)
    one_time = [{"cycle": "one_time", "price": "9.90"}]
    good = make(sku="MUG", kind="good", prices=one_time, price=None, billing=None, billing_period_months=None)
    assert (add_on.kind, add_on.parents, add_on.events[0].parents) == (Kind.ADD_ON, [parent], (parent,))
    assert (package.kind, package.units, package.events[0].units) == (Kind.UNIT_PACKAGE, 1000, 1000)
    assert (good.kind, good.billing, good.events[0].kind) == (Kind.GOOD, "one_time", "good")


@pytest.mark.parametrize(
    "over, field",
    [
        ({"kind": "add_on"}, "parents"),
        ({"kind": "unit_package"}, "units"),
        ({"kind": "unit_package", "units": 0}, "units"),
        ({"kind": "unit_package", "units": -5}, "units"),
        ({"units": 10}, "units"),
        ({"parents": [uuid.uuid4()]}, "parents"),
        ({"kind": "good"}, "prices"),
        ({"kind": "bundle"}, "kind"),
        ({"billing_period_months": 2}, "billing_period_months"),
        ({"billing_period_months": 48}, "billing_period_months"),
        ({"prices": [{"cycle": "monthly", "price": "1.00"}]}, "prices"),  # and the old price too
        ({"price": None, "billing": None, "billing_period_months": None, "prices": []}, "prices"),
        ({"price": None, "billing": None, "billing_period_months": None}, "prices"),
        ({"billing": None}, "billing"),
        ({**NO_OLD, "prices": [{"cycle": "weekly", "price": "1.00"}]}, "prices"),
        ({**NO_OLD, "prices": [{"cycle": "annual", "price": "-1.00"}]}, "prices"),
        ({**NO_OLD, "prices": [{"cycle": "annual", "price": "1.005"}]}, "prices"),
        (
            {
                **NO_OLD,
                "prices": [{"cycle": "annual", "price": "10.00"}, {"cycle": "annual", "price": "12.00"}],
            },
            "prices",
        ),
        (
            {
                "kind": "good",
                **NO_OLD,
                "prices": [{"cycle": "one_time", "price": "1.00"}, {"cycle": "monthly", "price": "1.00"}],
            },
            "prices",
        ),
    ],
)
def test_kinds_and_cycles_refused_name_the_field(over, field):
    with pytest.raises(InvalidInput) as err:
        make(**over)
    assert err.value.field == field, err.value


def test_the_old_fields_change_the_primary_price_only_and_another_kind_drops_units():
    item = make(
        kind="unit_package",
        units=100,
        price=None,
        billing=None,
        billing_period_months=None,
        prices=[{"cycle": "monthly", "price": "10.00"}, {"cycle": "annual", "price": "100.00"}],
    )
    item.change(NOW, price=Decimal("12.00"))
    assert item.prices == [CyclePrice(Cycle.MONTHLY, Decimal("12.00")), CyclePrice(Cycle.ANNUAL, Decimal("100.00"))]
    item.change(NOW, billing_period_months=3)
    assert item.prices[0] == CyclePrice(Cycle.QUARTERLY, Decimal("12.00"))
    with pytest.raises(InvalidInput) as twice:
        item.change(NOW, billing_period_months=12, name="renamed")  # annual has its price already
    assert twice.value.field == "prices" and item.name == "SEO boost" and item.prices[0].cycle == Cycle.QUARTERLY
    item.change(NOW, kind="service")
    assert (item.kind, item.units, item.revision) == (Kind.SERVICE, None, 4)
    item.change(NOW, prices=[{"cycle": "triennial", "price": "250.00"}])
    assert (item.billing, item.billing_period_months, item.events[-1].prices) == (
        "recurring",
        36,
        ((Cycle.TRIENNIAL, Decimal("250.00")),),
    )
