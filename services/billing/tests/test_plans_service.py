"""The automatic plan's use cases and charger on the fake unit of work (milliseconds): turning the
plan on at or below the threshold tops up once at once, usage across the threshold tops up once
for the whole deficit, the decision runs again after an approved top-up, declines wait for their
backoff and pause the plan after three, a new card resumes it, the cap stops top-ups for the
month, and a plan's invoice is addressed to its billing contact."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from plans_testkit import CONTACT, NOW, card, fake_stack, terms
from units_testkit import ADMIN, CUSTOMER, UNITS_1000

from billing.domain.invoices import BillTo, Status
from billing.domain.plans import PausedReason, PlanCard, PlanStatus
from billing.domain.units import EntryKind, PurchaseSource, PurchaseStatus
from billing.service.top_ups import PutPlan
from portal_contracts.events import billing as contract
from portal_runtime.auth import Principal
from portal_runtime.errors import InvalidInput, NotFound

DECLINING = "4000000000000002"
NOT_A_PACKAGE = uuid.UUID("00000000-0000-4000-8000-00000000dead")


def purchases(stack, status: PurchaseStatus | None = None) -> list:
    rows = sorted(stack.uow.unit_purchases.rows.values(), key=lambda p: p.created_at)
    return [p for p in rows if p.source is PurchaseSource.PLAN and (status is None or p.status is status)]


def published(stack, kind: type) -> list:
    return [e for e in stack.uow.published if isinstance(e, kind)]


def balance(stack, account: str = "acme") -> int:
    return stack.uow.wallets.rows[account].balance


async def use(stack, units: int, usage_id: str, *, on: date | None = None) -> None:
    await stack.units.record_usage(
        account_id="acme", usage_id=usage_id, units=units, used_on=on or stack.clock.now().date()
    )


async def test_turning_the_plan_on_at_the_threshold_tops_up_once_at_once():
    stack = fake_stack(grant=0)  # balance 0: "used up"
    view = await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(), card()))
    assert view.plan.status is PlanStatus.ACTIVE
    assert view.top_up is not None
    assert view.top_up.reason == "the balance (0) is at or below the threshold (0)"
    (pending,) = purchases(stack)
    assert (pending.purchase_id, pending.status, pending.units, pending.total) == (
        view.top_up.purchase_id,
        PurchaseStatus.PENDING,
        1000,
        Decimal("49.00"),
    )
    # Put again while it is being charged: no second top-up.
    again = await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(threshold=10)))
    assert again.top_up is None and len(purchases(stack)) == 1

    assert await stack.charger.drain() == 1
    (done,) = purchases(stack)
    assert done.status is PurchaseStatus.COMPLETED and (done.card_brand, done.card_last4) == ("visa", "4242")
    assert balance(stack) == 1000
    assert [c.amount for c in stack.gateway.charges] == [Decimal("49.00")]
    assert stack.gateway.charges[0].idempotency_key == f"unit-purchase:{done.purchase_id}"
    (bought,) = published(stack, contract.UnitsPurchased)
    assert bought.source == "plan" and bought.billing_contact == contract.BillingContact(**CONTACT)
    assert [e.kind for e in published(stack, contract.UnitsCredited)] == ["purchased"]
    assert stack.uow.invoices.rows[done.invoice_id].status is Status.PAID


async def test_the_card_is_saved_through_the_gateway_and_only_token_brand_last4_are_kept():
    stack = fake_stack(grant=5000)
    view = await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(), card("5555555555554444")))
    (token,) = stack.gateway._cards  # the sandbox keeps the card; the plan its token
    assert view.plan.card == PlanCard(token=token, brand="mastercard", last4="4444")
    stored = stack.uow.plans.rows["acme"]
    assert "5555555555554444" not in repr(vars(stored)) and "123" not in repr(vars(stored.card))
    assert view.top_up is None  # 5,000 is above the threshold


async def test_a_plans_invoice_is_addressed_to_its_billing_contact():
    stack = fake_stack(grant=0)
    await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(), card()))
    (pending,) = purchases(stack)
    invoice = stack.uow.invoices.rows[pending.invoice_id]
    expected = BillTo(
        name="Bea Billing",
        email="bea@acme.example",
        company="Acme GmbH",
        line1="Main St 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
    )
    assert invoice.bill_to == expected
    assert invoice.source.kind == "unit_top_up" and invoice.source.id == str(pending.purchase_id)
    assert invoice.due_on == NOW.date()
    (issued,) = published(stack, contract.InvoiceIssuedV2)
    assert issued.bill_to == contract.BillTo(**vars(expected))


async def test_a_deficit_of_2500_is_bought_in_one_purchase_of_3_packages_and_reports_meanwhile_add_none():
    stack = fake_stack(grant=500)
    assert (await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(), card()))).top_up is None
    await use(stack, 3000, "u-1")  # 500 - 3,000 = -2,500
    (pending,) = purchases(stack)
    assert [(line.sku, line.quantity) for line in pending.lines] == [("UNITS-1000", 3)]
    assert (pending.units, pending.total) == (3000, Decimal("147.00"))
    for i in range(5):  # more usage while it is charged: still one top-up
        await use(stack, 10, f"u-more-{i}")
    assert len(purchases(stack)) == 1
    assert await stack.charger.drain() == 1
    assert balance(stack) == -2500 - 50 + 3000
    assert len(stack.gateway.charges) == 1


async def test_after_an_approved_top_up_the_decision_runs_again():
    stack = fake_stack(grant=0)
    await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(), card()))  # a top-up of 1,000 pending
    await use(stack, 1500, "u-1")  # -1,500 while it is charged: nothing more yet
    assert len(purchases(stack)) == 1
    assert await stack.charger.drain() == 2  # approved → -500 → a second top-up, charged too
    first, second = purchases(stack)
    assert (first.units, second.units) == (1000, 1000)
    assert first.status is second.status is PurchaseStatus.COMPLETED
    assert second.attempt == 1
    assert balance(stack) == 500


async def test_declines_wait_for_the_backoff_pause_after_three_and_a_new_card_resumes_at_once():
    stack = fake_stack(grant=0)
    await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(), card(DECLINING)))
    assert await stack.charger.drain() == 1
    (failed,) = purchases(stack)
    assert (failed.status, failed.reason) == (PurchaseStatus.FAILED, "card_declined")
    assert stack.uow.invoices.rows[failed.invoice_id].status is Status.VOIDED
    plan = stack.uow.plans.rows["acme"]
    assert (plan.declines_in_a_row, plan.next_attempt_at) == (1, NOW + timedelta(hours=1))
    (told,) = published(stack, contract.UnitsTopUpFailed)
    assert (told.declines_in_a_row, told.next_attempt_at, told.plan_paused) == (1, NOW + timedelta(hours=1), False)
    assert told.billing_contact.email == "bea@acme.example"
    assert published(stack, contract.UnitsPurchaseFailed) == []  # that one is a manual purchase's
    assert [e for e in stack.uow.wallets.entries if e.kind is EntryKind.PURCHASED] == []

    # Inside the backoff: usage and the job start nothing.
    stack.clock.advance(minutes=59)
    await use(stack, 5, "u-1")
    assert (await stack.top_ups.run_due())["top_ups_started"] == 0
    assert len(purchases(stack)) == 1

    # After it: the job tries again (attempt 2), then usage (attempt 3): paused.
    stack.clock.advance(minutes=1)
    assert await stack.top_ups.run_due() == {"plans_due": 1, "top_ups_started": 1}
    await stack.charger.drain()
    stack.clock.advance(hours=1)
    await use(stack, 5, "u-2")
    await stack.charger.drain()
    assert [p.attempt for p in purchases(stack)] == [1, 2, 3]
    plan = stack.uow.plans.rows["acme"]
    assert (plan.status, plan.paused_reason, plan.next_attempt_at) == (PlanStatus.PAUSED, PausedReason.DECLINED, None)
    *_, last = published(stack, contract.UnitsTopUpFailed)
    assert (last.declines_in_a_row, last.plan_paused, last.next_attempt_at) == (3, True, None)
    (paused,) = published(stack, contract.UnitsPlanPaused)
    assert (paused.reason, paused.declines_in_a_row) == ("declined", 3)

    # Paused: nothing more, however long it waits.
    stack.clock.advance(days=1)
    await use(stack, 5, "u-3")
    assert (await stack.top_ups.run_due())["top_ups_started"] == 0
    assert len(purchases(stack)) == 3
    assert len(stack.gateway.charges) == 0  # three declines moved no money

    # A new card: active again, and (at or below the threshold) a top-up at once, approved.
    view = await stack.top_ups.save_card(CUSTOMER, card())
    assert view.plan.status is PlanStatus.ACTIVE and view.plan.declines_in_a_row == 0
    assert view.top_up is not None and view.top_up.reason == "the balance (-15) is at or below the threshold (0)"
    assert await stack.charger.drain() == 1
    assert balance(stack) == 985 and len(stack.gateway.charges) == 1
    moves = [(step.from_status, step.to_status) for _, step in stack.uow.plans.history]
    assert moves == [(None, "active"), ("active", "paused"), ("paused", "active")]


async def test_the_monthly_cap_stops_the_whole_top_up_tells_once_and_the_next_month_resumes():
    stack = fake_stack(grant=0)
    await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(monthly_cap=Decimal("100.00")), card()))
    await stack.charger.drain()  # 49.00 spent
    await use(stack, 1000, "u-1")  # 0 → a top-up of 49.00: 98.00 in all, within the cap
    await stack.charger.drain()
    await use(stack, 1000, "u-2")  # 0 → 49.00 more would be 147.00: none at all
    assert len(purchases(stack)) == 2
    (reached,) = published(stack, contract.UnitsCapReached)
    assert (reached.month, reached.cap.amount, reached.spent.amount, reached.needed.amount, reached.resumes_on) == (
        "2026-03",
        Decimal("100.00"),
        Decimal("98.00"),
        Decimal("49.00"),
        date(2026, 4, 1),
    )
    assert reached.billing_contact.name == "Bea Billing"
    assert stack.uow.plans.rows["acme"].capped_month == "2026-03"
    await use(stack, 500, "u-3")  # still March: nothing, and not told again
    assert (await stack.top_ups.run_due())["top_ups_started"] == 0
    assert len(published(stack, contract.UnitsCapReached)) == 1 and len(purchases(stack)) == 2

    stack.clock._at = datetime(2026, 4, 1, 0, 1, tzinfo=UTC)  # the next month: top-ups resume
    await use(stack, 1, "u-4")  # -501 → 1 package
    (_, _, april) = purchases(stack)
    assert april.units == 1000 and april.status is PurchaseStatus.PENDING
    assert stack.uow.plans.rows["acme"].capped_month is None


async def test_a_plan_that_is_off_tops_up_nothing_and_is_shown_off():
    stack = fake_stack(grant=100)
    await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(), card()))
    off = await stack.top_ups.turn_off(CUSTOMER)
    assert off.plan.status is PlanStatus.OFF
    await use(stack, 500, "u-1")
    assert purchases(stack) == []
    assert (await stack.top_ups.get_plan(CUSTOMER)).plan.status is PlanStatus.OFF
    # Turned on again (no card needed: one is saved), at -400: a top-up at once.
    view = await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms()))
    assert view.plan.status is PlanStatus.ACTIVE and view.top_up is not None


async def test_what_the_partner_sees_names_the_plan():
    stack = fake_stack(grant=2000)
    await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(threshold=500), card()))
    seen = await stack.units.view(CUSTOMER)
    assert seen.plan.plan.threshold == 500 and seen.plan.package == UNITS_1000


async def test_refusals():
    stack = fake_stack()
    with pytest.raises(InvalidInput) as no_card:
        await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms()))
    assert no_card.value.field == "card"
    with pytest.raises(InvalidInput) as unknown:
        await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(package_item_id=NOT_A_PACKAGE), card()))
    assert unknown.value.field == "package_item_id"
    with pytest.raises(NotFound):
        await stack.top_ups.get_plan(CUSTOMER)
    with pytest.raises(NotFound):
        await stack.top_ups.save_card(CUSTOMER, card())
    assert stack.gateway._cards == {}  # no plan: no card kept for nothing
    await stack.top_ups.put_plan(CUSTOMER, PutPlan(terms(), card()))
    with pytest.raises(NotFound):  # another account's plan is as one that does not exist
        await stack.top_ups.get_plan(Principal("bob", "globex", "customer"), account_id="acme")
    with pytest.raises(InvalidInput) as unnamed:
        await stack.top_ups.get_plan(ADMIN)
    assert unnamed.value.field == "account_id"
    assert (await stack.top_ups.get_plan(ADMIN, account_id="acme")).plan.account_id == "acme"
