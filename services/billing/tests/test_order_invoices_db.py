"""Orders' invoices on a real PostgreSQL (no broker: events stop in the outbox): the database holds
one invoice per order (`uq_invoices_order`, whatever the kind or period), an order's lines keep
their service, period and prorated total, and voiding is stored with its history row and told."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from billing_testkit import order_cancelled, order_placed
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from billing.adapters.events import to_contract
from billing.adapters.gateway import SandboxGateway
from billing.adapters.repository import BillingUnitOfWork
from billing.adapters.tables import InvoiceHistoryRow, InvoiceRow, OrderCancellationRow
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
from portal_runtime.lifecycle import InvalidTransition
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
OPS = Principal("olga", "ops", "admin")
COPY = (
    "INSERT INTO invoices (id, number, account_id, source_kind, source_id, period_start, period_end, currency, "
    "total, amount_paid, status, issued_at, due_on, instructions, updated_at) SELECT gen_random_uuid(), "
    "number || '-copy', account_id, {kind}, source_id, {start}, {end}, currency, total, amount_paid, status, "
    "issued_at, due_on, instructions, updated_at FROM invoices WHERE id = :id"
)


@pytest.fixture
async def env(migrated_database):
    engine = make_engine(await migrated_database(definition()))
    clock = FrozenClock(NOW)
    uow = UnitsOfWork(make_sessionmaker(engine), Outbox("billing", clock), to_contract, BillingUnitOfWork)
    yield BillingService(uow, clock, SandboxGateway(uow.sessions, clock), BillingSettings().payee()), engine
    await engine.dispose()


async def outbox(svc: BillingService) -> list[Envelope]:
    async with svc.uow.sessions() as s:
        rows = await s.scalars(select(OutboxRecord.envelope).order_by(OutboxRecord.id))
        return [Envelope.model_validate(r) for r in rows]


async def test_one_invoice_per_order_is_held_by_the_database(env):
    svc, engine = env
    event = order_placed("acme")
    made = await asyncio.gather(*(svc.invoice_order(order_command(event)) for _ in range(3)), return_exceptions=True)
    invoices = [i for i in made if i is not None and not isinstance(i, BaseException)]
    assert len(invoices) == 1, made  # the others found it, or lost the race on the unique index
    assert all(i is None or i is invoices[0] or isinstance(i, IntegrityError) for i in made)
    assert await svc.invoice_order(order_command(event.model_copy(update={"placed_at": NOW}))) is None
    # Not only the source and period: another period, or the order named as a renewal, is refused too.
    async with engine.connect() as conn:
        for kind, start, end in (
            ("source_kind", "DATE '2026-03-01'", "DATE '2026-03-31'"),
            ("'renewal'", "period_start", "period_end"),
        ):
            with pytest.raises(IntegrityError, match="uq_invoices_order"):
                await conn.execute(text(COPY.format(kind=kind, start=start, end=end)), {"id": invoices[0].id})
            await conn.rollback()
        count = await conn.scalar(select(func.count()).where(InvoiceRow.source_id == str(event.order_id)))
    assert count == 1


async def test_an_orders_lines_are_stored_with_service_period_and_prorated_total(env):
    svc, _ = env
    event = order_placed("acme")
    invoice = await svc.invoice_order(order_command(event))
    stored = await svc.get_invoice(invoice.id, OPS)
    assert (stored.source.kind, stored.due_on, stored.total) == ("order", date(2026, 3, 20), Decimal("27.50"))
    assert [
        (line.subscription_id, line.period_start, line.period_end, line.unit_price, line.line_total)
        for line in stored.lines
    ] == [
        (line.subscription_id, line.period_start, line.period_end, line.unit_price.amount, line.amount.amount)
        for line in event.lines
    ]


async def test_voiding_is_stored_with_its_history_told_and_refuses_payments(env):
    svc, engine = env
    event = order_placed("acme", source="renewal", due_on=date(2026, 4, 3))
    invoice = await svc.invoice_order(order_command(event))
    assert (await svc.cancel_order(cancellation(order_cancelled(event, "terminated")))).id == invoice.id
    assert await svc.cancel_order(cancellation(order_cancelled(event, "admin"))) is None  # told again
    stored = await svc.get_invoice(invoice.id, OPS)
    assert stored.status == Status.VOIDED
    async with engine.connect() as conn:
        history = (
            await conn.execute(select(InvoiceHistoryRow).where(InvoiceHistoryRow.invoice_id == invoice.id))
        ).all()
        kept = (await conn.execute(select(OrderCancellationRow))).one()
    assert [(h.from_status, h.to_status, h.note) for h in history] == [("issued", "voided", "terminated")]
    assert (kept.order_id, kept.reason) == (event.order_id, "terminated")  # the first telling is kept
    types = [e.type for e in await outbox(svc)]
    assert types == ["InvoiceIssued", "InvoiceIssued", "InvoiceVoided"]
    voided = (await outbox(svc))[-1].payload()
    assert (voided.source_kind, voided.source_id, voided.reason) == ("renewal", str(event.order_id), "terminated")
    transfer = PaymentRequest(
        invoice_id=invoice.id, method="bank_transfer", amount=Decimal("1.00"), currency="EUR", payer_reference="x"
    )
    with pytest.raises(InvalidTransition) as refused:
        await svc.pay(transfer, caller=OPS, idempotency_key="late", render=render)
    assert refused.value.extra["current_status"] == "voided"
    assert (await svc.get_invoice(invoice.id, OPS)).payments == []


async def test_a_cancellation_kept_before_the_invoice_voids_it_when_issued(env):
    svc, _ = env
    event = order_placed("acme")
    assert await svc.cancel_order(cancellation(order_cancelled(event))) is None
    invoice = await svc.invoice_order(order_command(event))
    assert (await svc.get_invoice(invoice.id, OPS)).status == Status.VOIDED
    assert [e.type for e in await outbox(svc)] == ["InvoiceIssued", "InvoiceIssued", "InvoiceVoided"]
