import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from orders_testkit import NOW, offer

from orders.domain import events
from orders.domain.offers import Offer, merge, supersedes
from orders.domain.pricing import PricedLine
from orders.domain.profiles import Profile
from orders.domain.requests import ServiceRequest
from orders.domain.subscriptions import LIFECYCLE, Status, Subscription, add_months
from portal_runtime.errors import Conflict, InvalidInput
from portal_runtime.lifecycle import InvalidTransition


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
    assert p.events == [events.AccountProfileChanged("acme", "Ops@example.com", "de", NOW)]
    p.events.clear()
    assert p.change("Ops@example.com", "de", NOW) is False and p.events == []
    assert p.change("ops@example.com", "pl", NOW) is True
    assert p.events == [events.AccountProfileChanged("acme", "ops@example.com", "pl", NOW)]


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
    subs = r.activate(by="billing", now=NOW)
    assert [(s.name, s.quantity, s.unit_price, s.billing, s.next_due_on, s.status) for s in subs] == [
        ("Backup", 2, Decimal("9.90"), "recurring", date(2026, 4, 30), "active"),
        ("Setup", 1, Decimal("50.00"), "one_time", None, "active"),  # one-time: active (as the API shows)
    ]
    assert {s.activated_on for s in subs} == {s.anchor_on for s in subs} == {date(2026, 1, 31)}
    assert {s.account_id for s in subs} == {"acme"} and {s.request_id for s in subs} == {r.id}
    for s in subs:
        assert [(t.from_status, t.to_status, t.by) for t in s.history] == [
            (None, "pending", "billing"),
            ("pending", "active", "billing"),
        ]
        [activated] = s.events
        assert type(activated) is events.SubscriptionActivated and activated.anchor_on == date(2026, 1, 31)


# -- the subscription's lifecycle ----------------------------------------------------------
MOVES = {
    "activate": lambda s: s.activate(NOW.date(), by="billing", now=NOW),
    "suspend": lambda s: s.suspend(by="ops", now=NOW, note="unpaid"),
    "reactivate": lambda s: s.reactivate(by="ops", now=NOW),
    "cancel": lambda s: s.cancel(by="acme", now=NOW),
    "terminate": lambda s: s.terminate(by="ops", now=NOW),
    "complete": lambda s: s.complete(by="ops", now=NOW),
}
SUB_ALLOWED = {  # the documented table: from each status, the moves it allows and where they lead
    (status, move): target
    for status, moves in {
        Status.PENDING: {"activate": Status.ACTIVE, "cancel": Status.CANCELLED},
        Status.ACTIVE: {
            "suspend": Status.SUSPENDED,
            "cancel": Status.CANCELLED,
            "terminate": Status.TERMINATED,
            "complete": Status.COMPLETED,
        },
        Status.SUSPENDED: {"reactivate": Status.ACTIVE, "cancel": Status.CANCELLED, "terminate": Status.TERMINATED},
    }.items()
    for move, target in moves.items()
}
SUB_RAISES = {
    "activate": events.SubscriptionActivated,
    "suspend": events.SubscriptionSuspended,
    "reactivate": events.SubscriptionReactivated,
    "cancel": events.SubscriptionCancelled,
    "terminate": events.SubscriptionTerminated,
    "complete": events.SubscriptionCompleted,
}
SUB_ROUTE = {
    Status.PENDING: [],
    Status.ACTIVE: ["activate"],
    Status.SUSPENDED: ["activate", "suspend"],
    Status.CANCELLED: ["cancel"],
    Status.TERMINATED: ["activate", "terminate"],
    Status.COMPLETED: ["activate", "complete"],
}


def subscription(billing: str = "one_time", months: int | None = None) -> Subscription:
    line = PricedLine(uuid.uuid4(), 1, "Setup", Decimal("50.00"), "EUR", billing, months)
    return Subscription.open(account_id="acme", request_id=uuid.uuid4(), line=line, by="billing", now=NOW)


def in_sub_status(status: Status) -> Subscription:
    s = subscription()
    for move in SUB_ROUTE[status]:
        MOVES[move](s)
    assert s.status == status
    s.events.clear()
    return s


def test_the_subscription_table_is_the_documented_one():
    assert LIFECYCLE.table == SUB_ALLOWED


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("move", sorted(MOVES))
def test_every_subscription_move_in_every_status(status, move):
    s = in_sub_status(status)
    history = list(s.history)
    if (status, move) in SUB_ALLOWED:
        MOVES[move](s)
        assert s.status == SUB_ALLOWED[(status, move)]
        assert s.history[:-1] == history and (s.history[-1].from_status, s.history[-1].to_status) == (
            status,
            s.status,
        )
        [event] = s.events
        assert type(event) is SUB_RAISES[move] and (event.subscription_id, event.account_id) == (s.id, "acme")
    else:
        with pytest.raises(InvalidTransition) as err:
            MOVES[move](s)
        assert err.value.status_code == 409 and err.value.extra["current_status"] == status
        assert s.status == status and s.history == history and s.events == []


def test_a_recurring_subscription_is_anchored_and_ends_without_completing():
    s = subscription("recurring", 1)
    s.activate(date(2026, 1, 31), by="billing", now=NOW)
    assert (s.anchor_on, s.next_due_on) == (date(2026, 1, 31), date(2026, 2, 28))
    with pytest.raises(Conflict) as err:
        s.complete(by="ops", now=NOW)
    assert err.value.extra["current_status"] == "active" and s.status == Status.ACTIVE and len(s.history) == 2
    s.suspend(by="ops", now=NOW + timedelta(days=3))
    s.reactivate(by="ops", now=NOW + timedelta(days=4))
    assert (s.anchor_on, s.next_due_on) == (date(2026, 1, 31), date(2026, 2, 28))  # the cycle keeps its anchor
    s.cancel(by="acme", now=NOW + timedelta(days=5), note="no longer needed")
    assert s.status == Status.CANCELLED and s.next_due_on is None and s.history[-1].note == "no longer needed"
