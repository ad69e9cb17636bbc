"""Credit notes on a real PostgreSQL (no broker: events stop in the outbox): the migrations (0010
with them) make the tables the models describe; a paid order's cancellation told several times at once makes one
credit note (the invoice row's lock and `uq_credit_notes_reason`), its refund rows or its account
credit stored once, CreditNoteIssued staged once; read back by order, invoice and account."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from billing_testkit import order_cancelled, order_placed
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from billing.adapters.credit_note_tables import AccountCreditRow, CreditNoteRow, RefundRow
from billing.adapters.events import to_contract
from billing.adapters.gateway import SandboxGateway
from billing.adapters.repository import BillingUnitOfWork
from billing.adapters.tables import Base
from billing.bootstrap import definition
from billing.consumers.orders import cancellation, order_command
from billing.domain.invoices import Status
from billing.domain.payments import PaymentRequest
from billing.http.invoices import render
from billing.service.invoices import BillingService
from billing.settings import BillingSettings
from portal_contracts import Envelope
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.db import OutboxRecord, make_engine, make_sessionmaker
from portal_runtime.idempotency import IdempotencyBase
from portal_runtime.outbox import Outbox
from portal_runtime.paging import PageRequest
from portal_runtime.testing import schema_drift
from portal_runtime.uow import UnitsOfWork

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
OPS = Principal("olga", "ops", "admin")
ACME = Principal("alice", "acme", "customer")
PAGE = PageRequest(50, 0)


@pytest.fixture
async def env(migrated_database):
    url = await migrated_database(definition())
    engine = make_engine(url)
    clock = FrozenClock(NOW)
    uow = UnitsOfWork(make_sessionmaker(engine), Outbox("billing", clock), to_contract, BillingUnitOfWork)
    yield BillingService(uow, clock, SandboxGateway(uow.sessions, clock), BillingSettings().payee()), engine, url
    await engine.dispose()


async def outbox(svc: BillingService) -> list[Envelope]:
    async with svc.uow.sessions() as s:
        rows = await s.scalars(select(OutboxRecord.envelope).order_by(OutboxRecord.id))
        return [Envelope.model_validate(r) for r in rows]


async def paid(svc: BillingService, amounts: tuple[str, ...]):
    event = order_placed("acme")
    invoice = await svc.invoice_order(order_command(event))
    for amount in amounts:
        transfer = PaymentRequest(
            invoice_id=invoice.id,
            method="bank_transfer",
            amount=Decimal(amount),
            currency="EUR",
            payer_reference=f"bank {amount}",
        )
        await svc.pay(transfer, caller=OPS, idempotency_key=f"{invoice.id}-{amount}", render=render)
    return event, invoice


async def test_the_migrations_make_the_tables_the_models_describe(env):
    _, _, url = env
    assert await schema_drift(url, Base.metadata, IdempotencyBase.metadata) == []


async def test_a_cancellation_told_at_once_three_times_credits_once(env):
    svc, engine, _ = env
    event, invoice = await paid(svc, ("27.50",))
    told = cancellation(order_cancelled(event, "admin", settlement="refund", note="wrong address"))
    results = await asyncio.gather(*(svc.cancel_order(told) for _ in range(3)), return_exceptions=True)
    assert all(r is None for r in results), results  # paid: not voided; the lock orders the three
    assert (await svc.get_invoice(invoice.id, OPS)).status == Status.PAID
    async with engine.connect() as conn:
        notes = (await conn.execute(select(CreditNoteRow))).all()
        refunds = (await conn.execute(select(RefundRow))).all()
        credits = await conn.scalar(select(func.count()).select_from(AccountCreditRow))
    [note] = notes
    assert (note.number, note.reason, note.cause_id, note.total, note.refunded, note.credited, note.note) == (
        "CN-2026-000001",
        "cancelled_order",
        str(event.order_id),
        Decimal("27.50"),
        Decimal("27.50"),
        Decimal("0.00"),
        "wrong address",
    )
    assert [(r.method, r.amount, r.payer_reference, r.credit_note_id) for r in refunds] == [
        ("bank_transfer", Decimal("27.50"), "bank 27.50", note.id)
    ]
    assert credits == 0
    issued = [e for e in await outbox(svc) if e.type == "CreditNoteIssued"]
    assert len(issued) == 1 and issued[0].payload().credit_note_id == note.id
    # The database holds it too: a second credit note for the same cause is refused.
    async with engine.connect() as conn:
        with pytest.raises(IntegrityError, match="uq_credit_notes_reason"):
            await conn.execute(
                text(
                    "INSERT INTO credit_notes SELECT gen_random_uuid(), number || '-2', invoice_id, invoice_number, "
                    "account_id, source_kind, source_id, currency, total, tax_total, reason, cause_id, settlement, "
                    "refunded, credited, note, issued_at, issued_by FROM credit_notes"
                )
            )


async def test_a_part_paid_invoice_credited_to_the_account_is_read_back(env):
    svc, engine, _ = env
    event, invoice = await paid(svc, ("5.00", "7.00"))
    voided = await svc.cancel_order(cancellation(order_cancelled(event, "admin", settlement="credit")))
    assert voided.id == invoice.id and (await svc.get_invoice(invoice.id, OPS)).status == Status.VOIDED
    other, _ = await paid(svc, ("15.50",))  # the 12.00 credit paid the rest at issue (account_credit)
    await svc.cancel_order(cancellation(order_cancelled(other, "terminated")))  # no settlement: credit
    [note] = (await svc.list_credit_notes(ACME, order_id=event.order_id, page=PAGE)).items
    assert (note.number, note.total, note.credited, note.refunds, note.order_id) == (
        "CN-2026-000001",
        Decimal("12.00"),
        Decimal("12.00"),
        [],
        event.order_id,
    )
    [line] = note.lines
    assert (line.description, line.invoice_line_id, line.tax) == (
        f"Payments received on invoice {invoice.number} for cancelled order",
        None,
        Decimal("0.00"),
    )
    assert (await svc.get_credit_note(note.id, ACME)).lines == note.lines
    assert [n.number for n in (await svc.list_credit_notes(OPS, account_id="acme", page=PAGE)).items] == [
        "CN-2026-000002",
        "CN-2026-000001",
    ]
    assert (await svc.list_credit_notes(OPS, invoice_id=invoice.id, page=PAGE)).total == 1
    assert (await svc.list_credit_notes(OPS, order_id=uuid.uuid4(), page=PAGE)).total == 0
    credit = await svc.account_credit(ACME)
    assert [(b.currency, b.amount) for b in credit.balances] == [("EUR", Decimal("27.50"))]
    async with engine.connect() as conn:
        entries = (await conn.execute(select(AccountCreditRow.kind, AccountCreditRow.amount))).all()
    assert sorted(entries) == [
        ("allocation", Decimal("-12.00")),
        ("credit_note", Decimal("12.00")),
        ("credit_note", Decimal("27.50")),
    ]
