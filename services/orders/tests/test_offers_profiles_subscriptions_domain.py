from datetime import date
from decimal import Decimal

import pytest
from orders_testkit import NOW, offer

from orders.domain.offers import Offer, merge, supersedes
from orders.domain.profiles import Profile
from orders.domain.requests import ServiceRequest
from orders.domain.subscriptions import add_months, subscriptions_for
from portal_runtime.errors import InvalidInput


def test_only_a_higher_revision_supersedes():
    v2 = offer(revision=2)
    assert supersedes(v2, None)
    assert supersedes(offer(revision=3, item_id=v2.item_id), v2)
    assert not supersedes(offer(revision=2, item_id=v2.item_id), v2)
    assert not supersedes(offer(revision=1, item_id=v2.item_id), v2)


def test_a_retirement_keeps_the_last_known_name_and_price():
    v1 = offer("5.00", revision=1)
    retired = merge(Offer(item_id=v1.item_id, revision=2, status="retired"), v1)
    assert (retired.status, retired.revision, retired.name, retired.price) == ("retired", 2, v1.name, Decimal("5.00"))
    tombstone = Offer(item_id=v1.item_id, revision=2, status="retired")
    assert merge(tombstone, None) == tombstone and not tombstone.is_offered


def test_profile_is_validated_and_reports_change():
    p = Profile.new("acme", " Ops@Example.COM ", "de", NOW)
    assert (p.email, p.language) == ("Ops@example.com", "de")
    assert p.change("Ops@example.com", "de", NOW) is False
    assert p.change("ops@example.com", "pl", NOW) is True


@pytest.mark.parametrize("email", ["", "no-at", "a@b", "a b@c.de", "a@@c.de", "a@.de", "x" * 250 + "@e.de"])
def test_bad_emails_name_the_field(email):
    with pytest.raises(InvalidInput) as err:
        Profile.new("acme", email, "en", NOW)
    assert err.value.field == "email"


def test_unknown_language_names_the_field():
    with pytest.raises(InvalidInput) as err:
        Profile.new("acme", "a@b.de", "fr", NOW)
    assert err.value.field == "language"


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 3, 1), 12, date(2027, 3, 1)),
        (date(2026, 5, 31), 24, date(2028, 5, 31)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_subscriptions_from_an_approved_request():
    monthly, once = offer("9.90", months=3, name="Backup"), offer("50.00", billing="one_time", name="Setup")
    offers = {monthly.item_id: monthly, once.item_id: once}
    r = ServiceRequest.create("acme", by="acme", now=NOW)
    r.set_line(monthly.item_id, 2, offers)
    r.set_line(once.item_id, 1, offers)
    r.submit(offers, by="acme", now=NOW)
    r.approve(by="ops", now=NOW)
    assert r.activate(by="billing", now=NOW) is True
    subs = subscriptions_for(r, activated_on=date(2026, 1, 31), now=NOW)
    assert [(s.name, s.quantity, s.unit_price, s.billing, s.next_due_on, s.status) for s in subs] == [
        ("Backup", 2, Decimal("9.90"), "recurring", date(2026, 4, 30), "active"),
        ("Setup", 1, Decimal("50.00"), "one_time", None, "active"),
    ]
    assert {s.account_id for s in subs} == {"acme"} and {s.request_id for s in subs} == {r.id}
