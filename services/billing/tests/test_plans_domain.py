"""The automatic plan's rules, on the domain alone: when it tops up and by how much, the cap (no
partial top-up, told once a month, the next month resumes), declines with their backoff and the
pause after three in a row, and a new card resuming it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from billing.domain.plans import (
    BillingAddress,
    BillingContact,
    Capped,
    CapReached,
    NoTopUp,
    PausedReason,
    Plan,
    PlanCard,
    PlanPaused,
    PlanStatus,
    PlanTerms,
    RetryPolicy,
    TopUp,
    TopUpFailed,
    decide,
    first_of_next_month,
    packages_needed,
)
from billing.domain.units import UnitPackage
from portal_runtime.errors import InvalidInput

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
PACKAGE = UnitPackage(
    item_id=uuid.UUID("00000000-0000-4000-8000-00000000b001"),
    sku="UNITS-1000",
    name="1,000 units",
    units=1000,
    price=Decimal("49.00"),
    currency="EUR",
    revision=1,
)
CARD = PlanCard(token="tok_1", brand="visa", last4="4242")
POLICY = RetryPolicy(retry_after=timedelta(hours=1), max_declines=3)


def terms(**changes) -> PlanTerms:
    return PlanTerms(
        package_item_id=changes.pop("package_item_id", PACKAGE.item_id),
        billing_address=BillingAddress(line1="Main St 1", postal_code="10115", city="Berlin", country="DE"),
        billing_contact=BillingContact(name="Bea Billing", email="bea@acme.example"),
        **changes,
    )


def plan(**changes) -> Plan:
    return Plan.start("acme", terms(**changes), CARD, by="acme/alice", now=NOW)


def wants(p: Plan, balance: int, *, spent: str = "0", pending: bool = False, now: datetime = NOW):
    return decide(
        p,
        balance=balance,
        package=PACKAGE,
        spent_this_month=Decimal(spent),
        pending=pending,
        now=now,
        today=now.date(),
    )


def decline(p: Plan, *, now: datetime = NOW) -> None:
    p.top_up_declined(
        purchase_id=uuid.uuid4(),
        invoice_id=uuid.uuid4(),
        invoice_number="INV-2026-000001",
        total=Decimal("49.00"),
        currency="EUR",
        reason="card_declined",
        policy=POLICY,
        now=now,
    )


def test_the_default_threshold_is_zero_used_up():
    p = plan()
    assert p.threshold == 0
    assert isinstance(wants(p, 1), NoTopUp)
    top_up = wants(p, 0)
    assert isinstance(top_up, TopUp)
    assert (top_up.quantity, top_up.units, top_up.total) == (1, 1000, Decimal("49.00"))
    assert top_up.reason == "the balance (0) is at or below the threshold (0)"


def test_a_deficit_of_2500_buys_3_packages_in_one_purchase():
    top_up = wants(plan(), -2500)
    assert isinstance(top_up, TopUp)
    assert (top_up.quantity, top_up.units, top_up.total, top_up.currency) == (3, 3000, Decimal("147.00"), "EUR")


@pytest.mark.parametrize(
    ("balance", "threshold", "units", "n"),
    [
        (0, 0, 1000, 1),
        (-1, 0, 1000, 1),
        (-1000, 0, 1000, 2),
        (-2000, 0, 1000, 3),
        (-2500, 0, 1000, 3),
        (499, 500, 100, 1),
        (100, 500, 100, 5),
        (-20, 0, 5000, 1),
    ],
)
def test_packages_needed_is_the_smallest_count_that_gets_above_the_threshold(balance, threshold, units, n):
    assert packages_needed(balance, threshold, units) == n
    assert balance + n * units > threshold
    assert n == 1 or balance + (n - 1) * units <= threshold


def test_above_a_higher_threshold_nothing_below_it_a_top_up():
    p = plan(threshold=500)
    assert isinstance(wants(p, 501), NoTopUp)
    top_up = wants(p, 500)
    assert isinstance(top_up, TopUp) and top_up.quantity == 1


def test_nothing_while_a_plan_purchase_is_pending():
    decision = wants(plan(), -100, pending=True)
    assert decision == NoTopUp("a top-up is being charged")


def test_nothing_for_a_plan_that_is_off_or_paused():
    p = plan()
    p.turn_off(by="acme/alice", now=NOW)
    assert wants(p, -100) == NoTopUp("the plan is off")
    q = plan()
    for _ in range(3):
        decline(q)
    assert wants(q, -100) == NoTopUp("the plan is paused")


def test_nothing_for_a_retired_or_unknown_package():
    p = plan()
    retired = UnitPackage(**{**PACKAGE.__dict__, "retired": True})
    for package in (None, retired):
        decision = decide(
            p, balance=0, package=package, spent_this_month=Decimal(0), pending=False, now=NOW, today=TODAY
        )
        assert isinstance(decision, NoTopUp) and "not on sale" in decision.why


def test_a_decline_waits_for_the_backoff_then_tries_again():
    p = plan()
    decline(p)
    assert p.declines_in_a_row == 1
    assert p.next_attempt_at == NOW + timedelta(hours=1)
    assert p.status is PlanStatus.ACTIVE
    (failed,) = p.events
    assert isinstance(failed, TopUpFailed)
    assert (failed.declines_in_a_row, failed.next_attempt_at, failed.plan_paused) == (
        1,
        NOW + timedelta(hours=1),
        False,
    )
    assert failed.billing_contact.email == "bea@acme.example"
    inside = wants(p, -10, now=NOW + timedelta(minutes=59))
    assert isinstance(inside, NoTopUp) and "tried again at" in inside.why
    assert isinstance(wants(p, -10, now=NOW + timedelta(hours=1)), TopUp)
    assert p.attempt == 2


def test_three_declines_in_a_row_pause_the_plan_and_a_new_card_resumes_it():
    p = plan()
    decline(p)
    decline(p, now=NOW + timedelta(hours=1))
    p.events.clear()
    decline(p, now=NOW + timedelta(hours=2))
    assert p.status is PlanStatus.PAUSED
    assert p.paused_reason is PausedReason.DECLINED
    assert p.next_attempt_at is None
    failed, paused = p.events
    assert isinstance(failed, TopUpFailed) and failed.plan_paused and failed.next_attempt_at is None
    assert isinstance(paused, PlanPaused) and paused.declines_in_a_row == 3
    assert [(s.from_status, s.to_status, s.by) for s in p.history[1:]] == [
        (PlanStatus.ACTIVE, PlanStatus.PAUSED, "system/units-plan")
    ]

    # New terms without a card leave it paused; a new card resumes it, declines start over.
    p.change(terms(threshold=100), None, by="acme/alice", now=NOW)
    assert p.status is PlanStatus.PAUSED and p.threshold == 100
    resumed = p.save_card(PlanCard("tok_2", "mastercard", "4444"), by="acme/alice", now=NOW)
    assert resumed is True
    assert (p.status, p.paused_reason, p.declines_in_a_row, p.card.token) == (PlanStatus.ACTIVE, None, 0, "tok_2")
    assert isinstance(wants(p, 100), TopUp)  # at the threshold: at once


def test_an_approved_top_up_resets_the_declines():
    p = plan()
    decline(p)
    p.top_up_approved(now=NOW + timedelta(hours=1))
    assert (p.declines_in_a_row, p.next_attempt_at, p.attempt) == (0, None, 1)


def test_the_cap_stops_the_whole_top_up_once_a_month_and_the_next_month_resumes():
    p = plan(monthly_cap=Decimal("100.00"))
    # 49.00 spent; a deficit of 1,500 wants 2 packages (98.00): 147.00 > 100.00, so none at all.
    decision = p.consider(
        balance=-1500, package=PACKAGE, spent_this_month=Decimal("49.00"), pending=False, now=NOW, today=TODAY
    )
    assert decision == Capped("2026-03", Decimal("100.00"), Decimal("49.00"), Decimal("98.00"), "EUR", date(2026, 4, 1))
    assert p.capped_month == "2026-03"
    (reached,) = p.events
    assert (
        isinstance(reached, CapReached) and reached.resumes_on == date(2026, 4, 1) and reached.needed == Decimal("98")
    )
    # Told once: later in the month nothing more, even a top-up that would fit.
    later = NOW + timedelta(days=5)
    again = p.consider(
        balance=-10, package=PACKAGE, spent_this_month=Decimal("0"), pending=False, now=later, today=later.date()
    )
    assert again == NoTopUp("the monthly cap was reached in 2026-03")
    assert len(p.events) == 1
    # The next month resumes: the earlier month's cap is cleared.
    april = datetime(2026, 4, 1, 0, 5, tzinfo=UTC)
    resumed = p.consider(
        balance=-1500, package=PACKAGE, spent_this_month=Decimal("0"), pending=False, now=april, today=april.date()
    )
    assert isinstance(resumed, TopUp) and resumed.quantity == 2
    assert p.capped_month is None


def test_a_top_up_that_fits_the_cap_exactly_is_made():
    p = plan(monthly_cap=Decimal("98.00"))
    assert isinstance(wants(p, -10, spent="49.00"), TopUp)
    assert isinstance(wants(p, -10, spent="49.01"), Capped)


def test_first_of_next_month():
    assert first_of_next_month(date(2026, 12, 31)) == date(2027, 1, 1)
    assert first_of_next_month(date(2026, 1, 31)) == date(2026, 2, 1)


def test_the_plan_addresses_its_invoices_to_its_contact():
    bill_to = plan().bill_to()
    assert (bill_to.name, bill_to.email, bill_to.line1, bill_to.city, bill_to.country) == (
        "Bea Billing",
        "bea@acme.example",
        "Main St 1",
        "Berlin",
        "DE",
    )


def test_turning_off_and_on_again():
    p = plan()
    p.turn_off(by="acme/alice", now=NOW)
    p.turn_off(by="acme/alice", now=NOW)  # off already: nothing more
    assert p.status is PlanStatus.OFF
    p.change(terms(), None, by="acme/alice", now=NOW)
    assert p.status is PlanStatus.ACTIVE
    assert [(s.from_status, s.to_status) for s in p.history] == [
        (None, PlanStatus.ACTIVE),
        (PlanStatus.ACTIVE, PlanStatus.OFF),
        (PlanStatus.OFF, PlanStatus.ACTIVE),
    ]


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: terms(threshold=-1), "threshold"),
        (lambda: terms(monthly_cap=Decimal("0")), "monthly_cap"),
        (lambda: terms(monthly_cap=Decimal("10.001")), "monthly_cap"),
        (lambda: BillingAddress(line1=" ", postal_code="1", city="X", country="DE"), "billing_address.line1"),
        (lambda: BillingAddress(line1="a", postal_code="1", city="X", country="de"), "billing_address.country"),
        (lambda: BillingContact(name="Bea", email="bea@nowhere"), "billing_contact.email"),
        (lambda: BillingContact(name="", email="bea@acme.example"), "billing_contact.name"),
        (lambda: Plan.start("acme", terms(), None, by="a/b", now=NOW), "card"),
    ],
)
def test_refusals_name_the_field(make, field):
    with pytest.raises(InvalidInput) as refused:
        make()
    assert refused.value.field == field
