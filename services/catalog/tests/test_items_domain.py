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


@pytest.fixture
def make(seo_boost):
    """The example item, created with `over` instead of some of its fields."""
    return lambda **over: Item.create(**{**seo_boost, "now": NOW, **over})


def test_create_raises_a_publication(make):
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
def test_invalid_items_name_the_field(over, field, make):
    with pytest.raises(InvalidInput) as err:
        make(**over)
    assert err.value.field == field


def test_change_bumps_revision_and_one_time_drops_period(make):
    item = make()
    item.change(NOW, billing="one_time")
    assert item.billing_period_months is None and item.revision == 2
    assert item.events[-1].billing == "one_time" and item.events[-1].revision == 2


def test_retired_item_cannot_change_or_retire_again(make):
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
def test_the_old_price_and_billing_are_one_price_of_their_cycle(billing, months, cycle, make):
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


def test_each_kind_with_what_it_needs(make):
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
def test_kinds_and_cycles_refused_name_the_field(over, field, make):
    with pytest.raises(InvalidInput) as err:
        make(**over)
    assert err.value.field == field, err.value


def test_the_old_fields_change_the_primary_price_only_and_another_kind_drops_units(make):
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


def test_an_add_on_is_added_once_per_parent_unless_told_otherwise_and_other_kinds_have_no_limit(make):
    parent = uuid.uuid4()
    once = make(sku="SSL", kind="add_on", parents=[parent])
    unlimited = make(sku="IP", kind="add_on", parents=[parent], max_per_parent=None)
    assert (once.max_per_parent, once.events[0].max_per_parent) == (1, 1)
    assert (unlimited.max_per_parent, unlimited.events[0].max_per_parent) == (None, None)
    assert make().max_per_parent is None
    once.change(NOW, max_per_parent=3)
    assert (once.max_per_parent, once.events[-1].max_per_parent, once.revision) == (3, 3, 2)
    once.change(NOW, kind="service")
    assert (once.max_per_parent, once.parents) == (None, [])
    once.change(NOW, kind="add_on", parents=[parent])
    assert once.max_per_parent == 1  # becoming an add-on: once per parent unless told otherwise


@pytest.mark.parametrize(
    "over",
    [
        {"max_per_parent": 2},  # a service
        {"max_per_parent": None},
        {"kind": "add_on", "parents": [uuid.uuid4()], "max_per_parent": 0},
        {"kind": "add_on", "parents": [uuid.uuid4()], "max_per_parent": True},
        {"kind": "add_on", "parents": [uuid.uuid4()], "max_per_parent": "2"},
    ],
)
def test_max_per_parent_refused_names_the_field(over, make):
    with pytest.raises(InvalidInput) as err:
        make(**over)
    assert err.value.field == "max_per_parent", err.value


def test_another_kind_than_add_on_keeps_no_max_per_parent_and_a_refused_change_changes_nothing(make):
    item = make()
    with pytest.raises(InvalidInput) as err:
        item.change(NOW, max_per_parent=5, name="renamed")
    assert (err.value.field, item.name, item.revision, len(item.events)) == ("max_per_parent", "SEO boost", 1, 1)


TEXTS = {"en": "New: SSL", "tr": "Yeni: SSL", "de": "Neu: SSL", "pl": "Nowość: SSL"}


def test_an_active_item_is_featured_with_a_text_per_language_and_the_same_texts_again_change_nothing(make):
    item = make()
    item.feature(TEXTS, NOW)
    assert (item.featured, item.revision) == (TEXTS, 2)
    assert dict(item.events[-1].featured) == TEXTS and item.events[-1].revision == 2
    item.feature(dict(TEXTS), NOW)
    assert (item.revision, len(item.events)) == (2, 2)
    item.feature({**TEXTS, "de": "Neu: SSL-Zertifikat"}, NOW)
    assert (item.featured["de"], item.revision) == ("Neu: SSL-Zertifikat", 3)
    item.unfeature(NOW)
    assert (item.featured, item.events[-1].featured, item.revision) == (None, None, 4)
    item.unfeature(NOW)
    assert (item.revision, len(item.events)) == (4, 4)


@pytest.mark.parametrize(
    "texts, field",
    [
        ({**TEXTS, "fr": "Nouveau"}, "texts.fr"),
        ({k: v for k, v in TEXTS.items() if k != "pl"}, "texts.pl"),
        ({**TEXTS, "tr": ""}, "texts.tr"),
        ({**TEXTS, "tr": "   "}, "texts.tr"),
        ({**TEXTS, "en": "x" * 201}, "texts.en"),
    ],
)
def test_featured_texts_refused_name_the_language(texts, field, make):
    item = make()
    with pytest.raises(InvalidInput) as err:
        item.feature(texts, NOW)
    assert (err.value.field, item.featured, item.revision) == (field, None, 1)


def test_retiring_clears_featured_and_a_retired_item_is_not_featured(make):
    item = make()
    item.feature(TEXTS, NOW)
    item.feature({**TEXTS, "en": "x" * 200}, NOW)  # 200 characters are taken
    item.retire(NOW)
    assert (item.featured, item.status) == (None, Status.RETIRED)
    with pytest.raises(InvalidTransition) as err:
        item.feature(TEXTS, NOW)
    assert err.value.extra["current_status"] == "retired" and item.featured is None
