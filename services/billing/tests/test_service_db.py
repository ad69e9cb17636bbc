"""The service's use cases on a real PostgreSQL (no broker needed: events stop in the outbox)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from billing_testkit import approved
from sqlalchemy import func, select

from billing.adapters.events import to_contract
from billing.adapters.gateway import SandboxGateway
from billing.adapters.repository import BillingUnitOfWork
from billing.adapters.tables import InvoiceRow, PaymentRow
from billing.bootstrap import definition
from billing.consumers.orders import issue_command
from billing.domain.cards import Card
from billing.domain.payments import PaymentRequest
from billing.http.invoices import render
from billing.service.invoices import BillingService
from billing.settings import BillingSettings
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.db import OutboxRecord, make_engine, make_sessionmaker
from portal_runtime.errors import InvalidInput
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork


class CountingGateway(SandboxGateway):
    def __init__(self, sessions) -> None:
        super().__init__(sessions)
        self.calls = 0

    async def charge_card(self, **kw):
        self.calls += 1
        await asyncio.sleep(0.05)  # a provider takes a moment: lets concurrent requests overlap
        return await super().charge_card(**kw)


@pytest.fixture
async def env(migrated_database):
    engine = make_engine(await migrated_database(definition()))
    clock = FrozenClock(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    uow = UnitsOfWork(make_sessionmaker(engine), Outbox("billing", clock), to_contract, BillingUnitOfWork)
    gateway = CountingGateway(make_sessionmaker(engine))
    svc = BillingService(uow, clock, gateway, BillingSettings().payee())
    yield svc, clock, gateway
    await engine.dispose()


async def issue(svc: BillingService, event):
    return await svc.issue_invoice(issue_command(event))


async def outbox_types(svc: BillingService) -> list[str]:
    async with svc.uow.sessions() as s:
        return list(await s.scalars(select(OutboxRecord.event_type).order_by(OutboxRecord.id)))


def card_payment(invoice_id, amount="50.00", number="4242424242424242"):
    card = Card.parse(number=number, expiry_month=12, expiry_year=2030, cvc="123", today=datetime(2026, 3, 20).date())
    return PaymentRequest(
        invoice_id=invoice_id, method="card", amount=Decimal(amount), currency="EUR", payer_reference="acme", card=card
    )


async def test_numbers_have_no_gaps_even_when_an_issue_rolls_back(env):
    svc, clock, _ = env
    first = await issue(svc, approved("acme"))
    with pytest.raises(InvalidInput):
        await issue(svc, approved("acme", total="1.00"))  # refused: its number goes back
    second = await issue(svc, approved("acme"))
    assert (first.number, second.number) == ("INV-2026-000001", "INV-2026-000002")
    clock.advance(days=300)
    assert (await issue(svc, approved("acme"))).number == "INV-2027-000001"
    assert await outbox_types(svc) == ["InvoiceIssued"] * 6  # versions 1 and 2 of each


async def test_concurrent_issues_take_distinct_consecutive_numbers(env):
    svc, _, _ = env
    invoices = await asyncio.gather(*(issue(svc, approved(f"acct-{i}")) for i in range(6)))
    assert sorted(i.number for i in invoices) == [f"INV-2026-{n:06d}" for n in range(1, 7)]


async def test_one_invoice_per_request(env):
    svc, _, _ = env
    event = approved("acme")
    assert await issue(svc, event) is not None
    assert await issue(svc, event.model_copy(update={"approved_by": "someone else"})) is None
    async with svc.uow.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InvoiceRow)) == 1


async def test_due_date_and_instructions_on_the_issued_invoice(env):
    svc, _, _ = env
    invoice = await issue(svc, approved("acme"))
    assert str(invoice.due_on) == "2026-04-03" and invoice.total == Decimal("129.70")
    bank = next(i for i in invoice.instructions if i.method == "bank_transfer")
    assert bank.details["reference"] == invoice.number and bank.details["iban"] == "DE89370400440532013000"


async def test_concurrent_requests_with_one_key_charge_once_and_answer_alike(env):
    svc, _, gateway = env
    invoice = await issue(svc, approved("acme"))
    caller = Principal("alice", "acme", "customer")
    answers = await asyncio.gather(
        *(svc.pay(card_payment(invoice.id), caller=caller, idempotency_key="k-1", render=render) for _ in range(3))
    )
    assert all(a == answers[0] for a in answers)
    assert answers[0].status_code == 201 and gateway.calls == 1
    async with svc.uow.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(PaymentRow)) == 1


async def test_replay_after_more_payments_still_gives_the_first_answer(env):
    svc, _, _ = env
    invoice = await issue(svc, approved("acme"))
    caller = Principal("alice", "acme", "customer")
    first = await svc.pay(card_payment(invoice.id), caller=caller, idempotency_key="a", render=render)
    await svc.pay(card_payment(invoice.id, "79.70"), caller=caller, idempotency_key="b", render=render)
    again = await svc.pay(card_payment(invoice.id), caller=caller, idempotency_key="a", render=render)
    assert again == first and again.body["invoice"]["status"] == "partially_paid"
    assert (await svc.get_invoice(invoice.id, caller)).status == "paid"
    # the replay of "a" published nothing again: one PaymentReceived per payment, one PaymentConfirmed
    assert await outbox_types(svc) == [
        *["InvoiceIssued"] * 2,  # versions 1 and 2
        "PaymentReceived",
        "PaymentReceived",
        "PaymentConfirmed",
    ]


async def test_keys_belong_to_their_caller(env):
    svc, _, _ = env
    mine, theirs = await issue(svc, approved("acme")), await issue(svc, approved("globex"))
    a = await svc.pay(
        card_payment(mine.id), caller=Principal("alice", "acme", "customer"), idempotency_key="same", render=render
    )
    b = await svc.pay(
        card_payment(theirs.id), caller=Principal("gina", "globex", "customer"), idempotency_key="same", render=render
    )
    assert a.status_code == b.status_code == 201 and a.body != b.body


async def test_a_declined_card_is_stored_told_and_changes_nothing(env):
    svc, _, gateway = env
    invoice = await issue(svc, approved("acme"))
    caller = Principal("alice", "acme", "customer")
    answer = await svc.pay(
        card_payment(invoice.id, number="4000000000000002"), caller=caller, idempotency_key="d", render=render
    )
    assert answer.status_code == 402 and answer.body["reason"] == "card_declined"
    again = await svc.pay(
        card_payment(invoice.id, number="4000000000000002"), caller=caller, idempotency_key="d", render=render
    )
    assert again == answer and gateway.calls == 1
    after = await svc.get_invoice(invoice.id, caller)
    assert after.status == "issued" and after.payments == []
    assert await outbox_types(svc) == ["InvoiceIssued", "InvoiceIssued", "PaymentFailed"]  # versions 1 and 2


async def test_no_card_number_is_stored_anywhere(env):
    svc, _, _ = env
    invoice = await issue(svc, approved("acme"))
    await svc.pay(
        card_payment(invoice.id), caller=Principal("alice", "acme", "customer"), idempotency_key="x", render=render
    )
    async with svc.uow.sessions() as s:
        conn = await s.connection()
        raw = await conn.exec_driver_sql(
            "SELECT string_agg(t::text, '|') FROM (SELECT * FROM payments) t "
            "UNION ALL SELECT string_agg(t::text, '|') FROM (SELECT * FROM idempotency) t "
            "UNION ALL SELECT string_agg(t::text, '|') FROM (SELECT * FROM outbox) t"
        )
        dump = " ".join(r[0] or "" for r in raw)
    assert "4242424242424242" not in dump and "4242" in dump
