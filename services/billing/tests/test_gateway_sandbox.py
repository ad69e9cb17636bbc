"""The sandbox gateway as a provider behaves, on a real PostgreSQL: one answer per idempotency key
across processes (two gateway objects on two engines), even when they ask at the same moment;
charges in its own transactions (a caller's rollback does not undo one); saved cards that keep
no number; and the in-memory variant following the same rules. Billing's default definition
charges through it, so tests count real charges from `gateway_sandbox_charges`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from billing_testkit import CARD_OK
from sqlalchemy import func, select, text

from billing.adapters.gateway import (
    UNKNOWN_CARD,
    GatewayResult,
    InMemorySandboxGateway,
    SandboxCharge,
    SandboxGateway,
    charges,
)
from billing.adapters.sandbox_tables import SandboxCardRow
from billing.bootstrap import definition
from billing.domain.cards import Card
from billing.domain.invoices import Line
from billing.service.invoices import BillingService, IssueInvoice
from billing.settings import BillingSettings
from portal_runtime.clock import FrozenClock
from portal_runtime.db import make_engine, make_sessionmaker
from portal_runtime.testing import bearer, eventually, running_service

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
APPROVES, DECLINES, MASTERCARD = "4242424242424242", "4000000000000002", "5555555555554444"


def card(number: str) -> Card:
    return Card.parse(number=number, expiry_month=12, expiry_year=2030, cvc="123", today=date(2026, 3, 20))


async def charge_card(gw, number: str, key: str, amount: str = "10.00") -> GatewayResult:
    return await gw.charge_card(
        card=card(number), amount=Decimal(amount), currency="EUR", description="Invoice INV-1", idempotency_key=key
    )


async def charge_saved(gw, token: str, key: str) -> GatewayResult:
    return await gw.charge_saved_card(
        token=token, amount=Decimal("49.00"), currency="EUR", description="1,000 units", idempotency_key=key
    )


@pytest.fixture
async def url(migrated_database) -> str:
    return await migrated_database(definition())


@pytest.fixture
async def engines(url) -> AsyncIterator[Callable[[], object]]:
    """Engines on billing's database, each standing for one process; all disposed at the end."""
    made = []

    def engine():
        made.append(make_engine(url))
        return made[-1]

    yield engine
    for e in made:
        await e.dispose()


@pytest.fixture(params=["database", "memory"])
async def sandbox(request, engines):
    """Either variant, with how to read its approved charges back."""
    clock = FrozenClock(NOW)
    if request.param == "memory":
        gw = InMemorySandboxGateway(clock)

        async def moved() -> list[SandboxCharge]:
            return list(gw.charges)

        return gw, moved
    engine = engines()
    return SandboxGateway(make_sessionmaker(engine), clock), lambda: charges(engine)


# -- the rules, in either variant -------------------------------------------------------------
async def test_a_card_approves_or_declines_as_the_test_numbers_say(sandbox):
    gw, moved = sandbox
    ok = await charge_card(gw, APPROVES, "k1")
    declined = await charge_card(gw, DECLINES, "k2")
    assert ok.approved and ok.reference.startswith("sbx_") and ok.reason is None
    assert declined == GatewayResult(approved=False, reason="card_declined")
    assert (await charge_card(gw, "4000000000009995", "k3")).reason == "insufficient_funds"
    assert [(c.idempotency_key, c.method, c.brand, c.last4) for c in await moved()] == [("k1", "card", "visa", "4242")]


async def test_a_key_seen_before_answers_the_first_result_and_moves_no_money(sandbox):
    gw, moved = sandbox
    first = await charge_card(gw, APPROVES, "same")
    again = await charge_card(gw, DECLINES, "same", amount="99.00")  # whatever it asks: the first answer
    assert again == first and [c.amount for c in await moved()] == [Decimal("10.00")]


async def test_a_saved_card_charges_with_its_brand_and_last4_and_one_from_a_declining_number_declines(sandbox):
    gw, moved = sandbox
    good = await gw.save_card(card(MASTERCARD))
    bad = await gw.save_card(card(DECLINES))
    assert (good.brand, good.last4, bad.brand, bad.last4) == ("mastercard", "4444", "visa", "0002")
    assert good.token != bad.token and MASTERCARD not in good.token
    approved = await charge_saved(gw, good.token, "unit-purchase:1")
    assert approved.approved and await charge_saved(gw, good.token, "unit-purchase:1") == approved
    assert await charge_saved(gw, bad.token, "unit-purchase:2") == GatewayResult(approved=False, reason="card_declined")
    assert await charge_saved(gw, "sbx_card_nobody", "unit-purchase:3") == GatewayResult(
        approved=False, reason=UNKNOWN_CARD
    )
    assert [(c.method, c.brand, c.last4, c.amount, c.description) for c in await moved()] == [
        ("saved_card", "mastercard", "4444", Decimal("49.00"), "1,000 units")
    ]


async def test_paypal_approves_every_payer_but_the_declining_one_and_keeps_no_payer(sandbox):
    gw, moved = sandbox
    ok = await gw.charge_paypal(
        payer="buyer@example.com", amount=Decimal(5), currency="EUR", description="x", idempotency_key="p1"
    )
    no = await gw.charge_paypal(
        payer=" Declined@PayPal.example", amount=Decimal(5), currency="EUR", description="x", idempotency_key="p2"
    )
    assert ok.approved and no == GatewayResult(approved=False, reason="payer_action_required")
    [paid] = await moved()
    assert (paid.method, paid.brand, paid.last4) == ("paypal", None, None) and "buyer" not in repr(paid)


# -- across processes, in the database ---------------------------------------------------------
async def test_a_second_process_gets_the_first_processs_answer(engines):
    one, two = (SandboxGateway(make_sessionmaker(engines())) for _ in range(2))
    first = await charge_card(one, APPROVES, "k")
    assert await charge_card(two, APPROVES, "k") == first
    declined = await charge_card(two, DECLINES, "d")
    assert await charge_card(one, APPROVES, "d") == declined
    everything = await charges(engines(), approved=None)
    assert [(c.idempotency_key, c.approved, c.reason) for c in everything] == [
        ("k", True, None),
        ("d", False, "card_declined"),
    ]


async def test_concurrent_charges_with_one_key_from_two_engines_move_money_once(engines):
    """Eight charges with one key, four from each of two processes, held at a table lock until
    all of them wait on it, then let go at once: one row, one answer for all eight."""
    processes = [SandboxGateway(make_sessionmaker(engines())) for _ in range(2)]
    watcher = engines()

    async def all_eight_wait() -> bool:
        async with watcher.connect() as conn:
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE relation = 'gateway_sandbox_charges'::regclass AND NOT granted"
                )
            )
        return waiting == 8

    async with watcher.connect() as holder:
        await holder.execute(text("LOCK TABLE gateway_sandbox_charges IN EXCLUSIVE MODE"))
        asking = [
            asyncio.create_task(charge_card(processes[i % 2], APPROVES if i % 2 else DECLINES, "one-key"))
            for i in range(8)
        ]
        await eventually(all_eight_wait, what="eight charges waiting at the lock")
        await holder.commit()
    answers = await asyncio.gather(*asking)
    assert len(set(answers)) == 1, answers
    everything = await charges(watcher, approved=None)
    assert len(everything) == 1 and everything[0].result == answers[0]
    assert len(await charges(watcher)) == (1 if answers[0].approved else 0)


async def test_a_callers_rollback_does_not_undo_a_charge(engines):
    engine = engines()
    sessions = make_sessionmaker(engine)
    gw = SandboxGateway(sessions)
    async with sessions() as callers:
        await callers.execute(text("SELECT 1"))  # the caller's transaction is open while it charges
        result = await charge_card(gw, APPROVES, "in-a-callers-transaction")
        await callers.rollback()
    [kept] = await charges(engine)
    assert kept.result == result and result.approved


async def test_saved_cards_keep_neither_the_number_nor_the_cvc(engines):
    engine = engines()
    gw = SandboxGateway(make_sessionmaker(engine))
    saved = await gw.save_card(
        Card.parse(number=DECLINES, expiry_month=1, expiry_year=2031, cvc="987", today=NOW.date())
    )
    assert set(SandboxCardRow.__table__.columns.keys()) == {"token", "brand", "last4", "decline_reason", "saved_at"}
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM gateway_sandbox_cards"))).one()
    assert tuple(row)[:4] == (saved.token, "visa", "0002", "card_declined")
    assert DECLINES not in repr(tuple(row)) and "987" not in repr(tuple(row))


# -- billing's default wiring ------------------------------------------------------------------
async def test_billing_charges_through_the_database_sandbox_by_default(new_database, kafka):
    url = await new_database("billing")
    async with running_service(
        definition(), database_url=url, kafka=kafka, clock=FrozenClock(NOW), consume=False, relay=False
    ) as (rt, http):
        use_cases = BillingService(rt.uow, rt.clock, InMemorySandboxGateway(), BillingSettings().payee())
        invoice = await use_cases.issue_invoice(
            IssueInvoice(uuid.uuid4(), "acme", "EUR", [Line("Hosting", 1, Decimal("129.70"))], Decimal("129.70"))
        )
        body = {"method": "card", "amount": "129.70", "currency": "EUR", "payer_reference": "acme", "card": CARD_OK}
        headers = {**bearer("acme"), "Idempotency-Key": "pay-1"}
        paid = await http.post(f"/v1/invoices/{invoice.id}/payments", json=body, headers=headers)
        assert paid.status_code == 201, paid.text
        [charged] = await charges(url)
        assert (charged.amount, charged.currency, charged.brand, charged.last4) == (
            Decimal("129.70"),
            "EUR",
            "visa",
            "4242",
        )
        assert charged.charged_at == NOW and charged.description == f"Invoice {invoice.number}"
        assert paid.json()["payment"]["gateway_reference"] == charged.reference
        async with rt.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(SandboxCardRow)) == 0
