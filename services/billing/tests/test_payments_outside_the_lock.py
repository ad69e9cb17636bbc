"""Payments call the gateway outside the transaction that locks the invoice (PostgreSQL, no
broker): the amount is reserved first (claim and checks in one unit of work), the card is charged
with no lock held, and a second unit of work records the payment or releases the reservation."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from billing_testkit import approved
from sqlalchemy import func, select, text

from billing.adapters.events import to_contract
from billing.adapters.gateway import InMemorySandboxGateway
from billing.adapters.repository import BillingUnitOfWork
from billing.adapters.tables import PaymentReservationRow, PaymentRow
from billing.bootstrap import definition
from billing.consumers.orders import issue_command
from billing.domain.cards import Card
from billing.domain.payments import PaymentRequest
from billing.http.invoices import render
from billing.service.invoices import BillingService
from billing.settings import BillingSettings
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.db import make_engine, make_sessionmaker
from portal_runtime.errors import InvalidInput
from portal_runtime.idempotency import KeyWithoutAnswer
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork

ACME = Principal("alice", "acme", "customer")


class WatchingGateway(InMemorySandboxGateway):
    """While it charges, looks at the database from another connection: is the invoice locked,
    what is reserved? It can also be told to fail as a provider that is away would."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = None
        self.seen: list[tuple[bool, Decimal]] = []
        self.fail = False
        self.calls = 0

    async def charge_card(self, **kw):
        self.calls += 1
        async with self.engine.connect() as conn:
            locked = False
            try:
                await conn.execute(text("SET lock_timeout = '50ms'"))
                await conn.execute(text("SELECT id FROM invoices FOR UPDATE"))
            except Exception:
                locked = True
            await conn.rollback()
            reserved = await conn.scalar(select(func.coalesce(func.sum(PaymentReservationRow.amount), 0)))
            self.seen.append((locked, reserved))
        if self.fail:
            raise ConnectionError("the provider is away")
        await asyncio.sleep(0.1)
        return await super().charge_card(**kw)


@pytest.fixture
async def env(migrated_database):
    engine = make_engine(await migrated_database(definition()))
    clock = FrozenClock(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    gateway = WatchingGateway()
    gateway.engine = engine
    uow = UnitsOfWork(make_sessionmaker(engine), Outbox("billing", clock), to_contract, BillingUnitOfWork)
    yield BillingService(uow, clock, gateway, BillingSettings().payee()), gateway, engine
    await engine.dispose()


def card(invoice_id, amount: str, number: str = "4242424242424242") -> PaymentRequest:
    parsed = Card.parse(number=number, expiry_month=12, expiry_year=2030, cvc="123", today=date(2026, 3, 20))
    return PaymentRequest(
        invoice_id=invoice_id,
        method="card",
        amount=Decimal(amount),
        currency="EUR",
        payer_reference="acme",
        card=parsed,
    )


async def held(engine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(PaymentReservationRow))


async def test_the_card_is_charged_with_no_lock_on_the_invoice_and_its_amount_reserved(env):
    svc, gateway, engine = env
    invoice = await svc.issue_invoice(issue_command(approved("acme")))
    answer = await svc.pay(card(invoice.id, "100.00"), caller=ACME, idempotency_key="a", render=render)
    assert answer.status_code == 201 and answer.body["invoice"]["balance_due"] == "29.70"
    assert gateway.seen == [(False, Decimal("100.00"))]  # not locked while charging; the amount held
    assert await held(engine) == 0  # the reservation became the payment


async def test_while_one_payment_charges_another_may_take_only_what_is_left(env):
    svc, gateway, _ = env
    invoice = await svc.issue_invoice(issue_command(approved("acme")))
    first = asyncio.create_task(svc.pay(card(invoice.id, "100.00"), caller=ACME, idempotency_key="1", render=render))
    while not gateway.seen:  # the first is charging now, outside any transaction
        await asyncio.sleep(0.01)
    with pytest.raises(InvalidInput) as refused:
        await svc.pay(card(invoice.id, "30.00"), caller=ACME, idempotency_key="2", render=render)
    assert refused.value.extra["balance_due"] == "29.70"
    rest = await svc.pay(card(invoice.id, "29.70"), caller=ACME, idempotency_key="3", render=render)
    assert (await first).status_code == rest.status_code == 201 and gateway.calls == 2
    assert rest.body["invoice"]["status"] == "paid"


async def test_a_decline_releases_the_reservation(env):
    svc, gateway, engine = env
    invoice = await svc.issue_invoice(issue_command(approved("acme")))
    declined = await svc.pay(
        card(invoice.id, "129.70", "4000000000000002"), caller=ACME, idempotency_key="d", render=render
    )
    assert declined.status_code == 402 and gateway.seen == [(False, Decimal("129.70"))]
    assert await held(engine) == 0
    paid = await svc.pay(card(invoice.id, "129.70"), caller=ACME, idempotency_key="ok", render=render)
    assert paid.status_code == 201 and paid.body["invoice"]["status"] == "paid"


async def test_a_gateway_that_fails_releases_the_reservation_and_records_nothing(env):
    svc, gateway, engine = env
    invoice = await svc.issue_invoice(issue_command(approved("acme")))
    gateway.fail = True
    with pytest.raises(ConnectionError):
        await svc.pay(card(invoice.id, "129.70"), caller=ACME, idempotency_key="away", render=render)
    assert await held(engine) == 0
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(PaymentRow)) == 0
    gateway.fail = False
    paid = await svc.pay(card(invoice.id, "129.70"), caller=ACME, idempotency_key="again", render=render)
    assert paid.status_code == 201


def fingerprint_of(request: PaymentRequest) -> str:
    from billing.domain.payments import fingerprint

    return fingerprint(request)


async def died_after_charging(svc, gateway, request: PaymentRequest, key: str) -> None:
    """What a process SIGKILLed while the gateway was charging leaves: the key claimed without an
    answer, the amount reserved, the money moved at the gateway, nothing recorded."""
    payments = svc.payments
    claimed = await payments._claim(request, caller=ACME, key=key, fingerprint=fingerprint_of(request))
    await payments._charge(
        request, claimed.invoice_number, gateway_key=f"{ACME.account_id}:{key}:{fingerprint_of(request)[:16]}"
    )
    assert len(gateway.charges) == 1


async def test_a_retry_takes_over_a_request_that_died_while_charging_and_the_card_is_charged_once(env, monkeypatch):
    from billing.service import payments

    svc, gateway, engine = env
    invoice = await svc.issue_invoice(issue_command(approved("acme")))
    request = card(invoice.id, "129.70")
    await died_after_charging(svc, gateway, request, "k")
    assert await held(engine) == 1

    # Within the lease the first request may still be charging: a retry waits, then answers 409.
    monkeypatch.setattr(payments, "ANSWER_WAIT_SECONDS", 0.3)
    with pytest.raises(KeyWithoutAnswer):
        await svc.pay(request, caller=ACME, idempotency_key="k", render=render)

    # After it, two retries at once take it over: one payment, the first charge's result, one answer.
    svc.payments.clock.advance(seconds=payments.CLAIM_LEASE_SECONDS)
    first, second = await asyncio.gather(
        *(svc.pay(request, caller=ACME, idempotency_key="k", render=render) for _ in range(2))
    )
    assert first.status_code == second.status_code == 201 and first.body == second.body
    assert first.body["invoice"]["status"] == "paid"
    assert len(gateway.charges) == 1 and first.body["payment"]["gateway_reference"] == gateway.charges[0].reference
    assert await held(engine) == 0
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(PaymentRow)) == 1


async def test_after_a_gateway_error_the_same_key_pays_and_the_gateway_is_asked_again(env):
    svc, gateway, engine = env
    invoice = await svc.issue_invoice(issue_command(approved("acme")))
    gateway.fail = True
    with pytest.raises(ConnectionError):
        await svc.pay(card(invoice.id, "129.70"), caller=ACME, idempotency_key="away", render=render)
    gateway.fail = False
    paid = await svc.pay(card(invoice.id, "129.70"), caller=ACME, idempotency_key="away", render=render)
    assert paid.status_code == 201 and paid.body["invoice"]["status"] == "paid" and len(gateway.charges) == 1
    again = await svc.pay(card(invoice.id, "129.70"), caller=ACME, idempotency_key="away", render=render)
    assert again.body == paid.body and len(gateway.charges) == 1
