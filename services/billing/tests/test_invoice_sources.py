"""Invoices for any source (PostgreSQL, no broker): an invoice names its source (kind, id, an
optional billing period), one per source and period (the database's unique index holds it), and
is published as InvoiceIssued v2 with line ids, SKUs and tax beside v1 for its older readers. The
source kind here is a test-only one: nothing in orders is involved."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from billing_testkit import approved
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from billing.adapters.events import to_contract
from billing.adapters.gateway import SandboxGateway
from billing.adapters.repository import BillingUnitOfWork
from billing.adapters.tables import Base, InvoiceRow
from billing.bootstrap import definition
from billing.consumers.orders import issue_command
from billing.domain.invoices import Line, SourceKind
from billing.service.invoices import BillingService
from billing.service.invoicing import IssueInvoice
from billing.settings import BillingSettings
from portal_contracts import Envelope
from portal_contracts.events.billing import InvoiceIssued, InvoiceIssuedV2
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.db import OutboxRecord, RuntimeBase, make_engine, make_sessionmaker
from portal_runtime.errors import InvalidInput
from portal_runtime.idempotency import IdempotencyBase
from portal_runtime.migrations import upgrade
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
TEST_ONLY = "test_only_subscription"  # a source kind no service has: billing takes it as it is
ITEM = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest.fixture
async def env(migrated_database):
    engine = make_engine(await migrated_database(definition()))
    clock = FrozenClock(NOW)
    uow = UnitsOfWork(make_sessionmaker(engine), Outbox("billing", clock), to_contract, BillingUnitOfWork)
    yield BillingService(uow, clock, SandboxGateway(uow.sessions, clock), BillingSettings().payee()), engine
    await engine.dispose()


def for_test_source(source_id="sub-1", period=(date(2026, 3, 1), date(2026, 3, 31)), **kw) -> IssueInvoice:
    start, end = period or (None, None)
    return IssueInvoice(
        source_kind=TEST_ONLY,
        source_id=source_id,
        period_start=start,
        period_end=end,
        account_id="acme",
        currency="EUR",
        lines=[
            Line("Mailbox, March", 3, Decimal("4.50"), item_id=ITEM, sku="MAIL-10G"),
            Line("Set-up", 1, Decimal("10.00")),
        ],
        expected_total=Decimal("23.50"),
        **kw,
    )


async def outbox(svc: BillingService) -> list[Envelope]:
    async with svc.uow.sessions() as s:
        rows = await s.scalars(select(OutboxRecord.envelope).order_by(OutboxRecord.id))
        return [Envelope.model_validate(r) for r in rows]


async def test_an_invoice_for_a_test_only_source_is_issued_and_published_with_its_source(env):
    svc, _ = env
    invoice = await svc.issue_invoice(for_test_source())
    assert (invoice.source.kind, invoice.source.id) == (TEST_ONLY, "sub-1") and invoice.request_id is None
    v1, v2 = [e.payload() for e in await outbox(svc)]
    assert isinstance(v1, InvoiceIssued) and v1.request_id is None and len(v1.lines) == 2  # as v1 readers know it
    assert isinstance(v2, InvoiceIssuedV2)
    assert (v2.source_kind, v2.source_id, v2.period_start, v2.period_end) == (
        TEST_ONLY,
        "sub-1",
        date(2026, 3, 1),
        date(2026, 3, 31),
    )
    mailbox, setup = v2.lines
    assert mailbox.line_id == invoice.lines[0].line_id and setup.line_id == invoice.lines[1].line_id
    assert mailbox.line_id != setup.line_id
    assert (mailbox.item_id, mailbox.sku, mailbox.quantity, mailbox.unit_price.amount) == (
        ITEM,
        "MAIL-10G",
        3,
        Decimal("4.50"),
    )
    assert (setup.item_id, setup.sku) == (None, None)  # unknown where the source does not know them
    assert (mailbox.tax_rate, mailbox.tax.amount, v2.tax_total.amount, v2.total.amount) == (0, 0, 0, Decimal("23.50"))
    stored = await svc.get_invoice(invoice.id, Principal("alice", "acme", "customer"))
    assert [line.line_id for line in stored.lines] == [line.line_id for line in invoice.lines]
    assert stored.source == invoice.source and stored.lines[0].sku == "MAIL-10G"


async def test_one_invoice_per_source_and_period(env):
    svc, engine = env
    march = await svc.issue_invoice(for_test_source())
    assert await svc.issue_invoice(for_test_source()) is None  # the same source and period
    april = await svc.issue_invoice(for_test_source(period=(date(2026, 4, 1), date(2026, 4, 30))))
    other = await svc.issue_invoice(for_test_source("sub-2"))
    once = await svc.issue_invoice(for_test_source("top-up-1", period=None))
    assert await svc.issue_invoice(for_test_source("top-up-1", period=None)) is None  # no period: once
    assert len({march.id, april.id, other.id, once.id}) == 4
    assert [i.number for i in (march, april, other, once)] == [f"INV-2026-{n:06d}" for n in range(1, 5)]
    # The database holds the rule itself, NULL periods included (NULLS NOT DISTINCT).
    async with engine.connect() as conn:
        for copied in (march.id, once.id):
            with pytest.raises(IntegrityError, match="uq_invoices_source"):
                await conn.execute(
                    text(
                        "INSERT INTO invoices (id, number, account_id, source_kind, source_id, period_start, "
                        "period_end, currency, total, amount_paid, status, issued_at, due_on, instructions, "
                        "updated_at) SELECT gen_random_uuid(), number || '-copy', account_id, source_kind, "
                        "source_id, period_start, period_end, currency, total, amount_paid, status, issued_at, "
                        "due_on, instructions, updated_at FROM invoices WHERE id = :id"
                    ),
                    {"id": copied},
                )
            await conn.rollback()


async def test_concurrent_issues_for_one_source_make_one_invoice(env):
    svc, _ = env
    issued = await asyncio.gather(*(svc.issue_invoice(for_test_source()) for _ in range(3)), return_exceptions=True)
    made = [i for i in issued if not isinstance(i, BaseException) and i is not None]
    assert len(made) == 1, issued  # the others found it, or lost the race on the unique index
    assert all(i is None or isinstance(i, IntegrityError) or i is made[0] for i in issued)


async def test_service_requests_are_a_source_too(env):
    svc, _ = env
    event = approved("acme")
    invoice = await svc.issue_invoice(issue_command(event))
    assert (invoice.source.kind, invoice.source.id, invoice.request_id) == (
        SourceKind.SERVICE_REQUEST,
        str(event.request_id),
        event.request_id,
    )
    assert await svc.issue_invoice(IssueInvoice(source_kind="service_request", source_id=str(event.request_id))) is None
    v1, v2 = [e.payload() for e in await outbox(svc)]
    assert v1.request_id == v2.request_id == event.request_id and v2.source_kind == "service_request"


@pytest.mark.parametrize(
    ("cmd", "field"),
    [
        (IssueInvoice(account_id="acme", currency="EUR"), "source_kind"),
        (IssueInvoice(source_kind=TEST_ONLY, account_id="acme", currency="EUR"), "source_id"),
        (IssueInvoice(source_kind=TEST_ONLY, source_id="x", period_start=date(2026, 3, 1)), "period_end"),
        (
            IssueInvoice(
                source_kind=TEST_ONLY, source_id="x", period_start=date(2026, 3, 2), period_end=date(2026, 3, 1)
            ),
            "period_end",
        ),
        (IssueInvoice(uuid.uuid4(), source_kind=TEST_ONLY, source_id="x"), "request_id"),
        (IssueInvoice(source_kind="service_request", source_id="not-a-uuid"), "source_id"),
    ],
)
async def test_a_source_must_be_named_whole(env, cmd, field):
    svc, _ = env
    with pytest.raises(InvalidInput) as err:
        await svc.issue_invoice(cmd)
    assert err.value.field == field


async def test_migration_matches_the_tables(env):
    _, engine = env
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}),
                [Base.metadata, RuntimeBase.metadata, IdempotencyBase.metadata],
            )
        )
    ours = [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert ours == []


async def test_revision_0004_moves_request_ids_to_sources_and_gives_old_lines_ids(new_database):
    url = await new_database("billing")
    migrations = Path(definition().migrations)
    await asyncio.to_thread(upgrade, migrations, url, "0003")
    engine = make_engine(url)
    invoice_id, request_id = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO invoices (id, number, account_id, request_id, currency, total, amount_paid, status, "
                "issued_at, due_on, instructions, updated_at) VALUES (:id, 'INV-2026-000001', 'acme', :rid, 'EUR', "
                "20, 0, 'issued', now(), current_date, '[]', now())"
            ),
            {"id": invoice_id, "rid": request_id},
        )
        for position in (1, 2):
            await conn.execute(
                text(
                    "INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_price, line_total) "
                    "VALUES (:id, :p, 'Line', 1, 10, 10)"
                ),
                {"id": invoice_id, "p": position},
            )
    await asyncio.to_thread(upgrade, migrations, url)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(select(InvoiceRow).where(InvoiceRow.id == invoice_id))).one()
            lines = (
                await conn.execute(
                    text("SELECT line_id, tax_rate, tax_amount FROM invoice_lines WHERE invoice_id = :id ORDER BY 1"),
                    {"id": invoice_id},
                )
            ).all()
            derived = (
                await conn.execute(
                    text("SELECT md5(:id || '/line/' || p::text)::uuid FROM generate_series(1, 2) p ORDER BY 1"),
                    {"id": str(invoice_id)},
                )
            ).scalars()
            derived = list(derived)
    finally:
        await engine.dispose()
    assert (row.source_kind, row.source_id, row.period_start, row.period_end) == (
        "service_request",
        str(request_id),
        None,
        None,
    )
    assert row.request_id == request_id  # still readable in SQL, derived from the source
    assert [line.line_id for line in lines] == derived and all(line.tax_amount == 0 for line in lines)
