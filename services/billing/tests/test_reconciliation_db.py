"""Reconciliation statements on a real PostgreSQL (no broker: events stop in the outbox): issued with
the account statement's figures of the period (numbered ST-<year>-<n>), listed by status and account,
read by their owner only (another account: 404, an empty list), answered once - confirmed, or
disputed with a note - a second answer refused with the current status; the period must end by
today; StatementIssued/Confirmed/Disputed staged."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from ledger_testkit import OPS, Books
from sqlalchemy import select

from billing.bootstrap import definition
from billing.domain.reconciliation import StatementStatus
from billing.service.reconciliation import IssueStatement, ReconciliationStatements
from portal_contracts import Envelope
from portal_runtime.auth import Principal
from portal_runtime.db import OutboxRecord
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.lifecycle import InvalidTransition
from portal_runtime.paging import PageRequest

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
ACME = Principal("alice", "acme", "customer")
GLOBEX = Principal("gina", "globex", "customer")
PAGE = PageRequest(50, 0)
D = Decimal


@pytest.fixture
async def books(migrated_database):
    books = Books.on(await migrated_database(definition()), NOW)
    yield books
    await books.engine.dispose()


async def staged(books: Books) -> list[str]:
    async with books.uow.sessions() as s:
        rows = await s.scalars(select(OutboxRecord.envelope).order_by(OutboxRecord.id))
        return [e.type for e in (Envelope.model_validate(r) for r in rows) if e.type.startswith("Statement")]


async def test_statements_are_issued_with_the_periods_figures_and_answered_once(books):
    books.clock.advance(days=-30)  # 2026-02-18: an invoice of 50.00, 20.00 paid
    invoice = await books.order("acme", "50.00")
    await books.transfer(invoice, "20.00")
    books.clock.advance(days=30)
    await books.order("acme", "10.00")  # 2026-03-20
    recon = ReconciliationStatements(books.uow, books.clock, UTC)

    feb = await recon.issue(IssueStatement("acme", "EUR", date(2026, 2, 1), date(2026, 2, 28), "February"), by=OPS)
    march = await recon.issue(IssueStatement("acme", "EUR", date(2026, 3, 1), date(2026, 3, 20)), by=OPS)
    assert (feb.number, march.number) == ("ST-2026-000001", "ST-2026-000002")
    assert (feb.opening_balance, feb.debits, feb.credits, feb.closing_balance) == (
        0,
        D("50.00"),
        D("20.00"),
        D("30.00"),
    )
    assert [(e.kind, e.debit, e.credit, e.balance) for e in feb.entries] == [
        ("invoice", D("50.00"), 0, D("50.00")),
        ("payment", 0, D("20.00"), D("30.00")),
    ]
    assert (march.opening_balance, march.closing_balance) == (feb.closing_balance, D("40.00"))
    figures = await books.statements.statement("acme", "EUR", date(2026, 2, 1), date(2026, 2, 28))
    assert feb.closing_balance == figures.closing_balance and feb.status is StatementStatus.OPEN

    # the owner reads them; another account gets 404 and an empty list
    read = await recon.get(feb.id, ACME)
    assert (read.number, read.note, read.entries) == (feb.number, "February", feb.entries)
    with pytest.raises(NotFound):
        await recon.get(feb.id, GLOBEX)
    with pytest.raises(NotFound):
        await recon.confirm(feb.id, GLOBEX)
    assert (await recon.list(GLOBEX, page=PAGE)).items == []
    assert [s.number for s in (await recon.list(ACME, page=PAGE)).items] == ["ST-2026-000002", "ST-2026-000001"]

    confirmed = await recon.confirm(feb.id, ACME)
    assert (confirmed.status, confirmed.answered_by) == (StatementStatus.CONFIRMED, "acme/alice")
    with pytest.raises(InvalidTransition) as again:
        await recon.dispute(feb.id, ACME, "wrong")
    assert again.value.current_status is StatementStatus.CONFIRMED
    with pytest.raises(InvalidInput) as blank:
        await recon.dispute(march.id, ACME, "   ")
    assert blank.value.field == "note"
    disputed = await recon.dispute(march.id, ACME, "  The 10.00 invoice is not ours  ")
    assert (disputed.status, disputed.dispute_note) == (StatementStatus.DISPUTED, "The 10.00 invoice is not ours")
    with pytest.raises(InvalidTransition):
        await recon.confirm(march.id, ACME)

    by_status = await recon.list(OPS, status=StatementStatus.DISPUTED, page=PAGE)
    assert [s.number for s in by_status.items] == ["ST-2026-000002"]
    assert [s.number for s in (await recon.list(OPS, account_id="globex", page=PAGE)).items] == []
    assert await staged(books) == ["StatementIssued", "StatementIssued", "StatementConfirmed", "StatementDisputed"]


async def test_a_period_ends_by_today_and_after_its_start(books):
    recon = ReconciliationStatements(books.uow, books.clock, UTC)
    for start, end, field in [
        (date(2026, 3, 1), date(2026, 3, 21), "period_end"),
        (date(2026, 3, 10), date(2026, 3, 9), "period_end"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            await recon.issue(IssueStatement("acme", "EUR", start, end), by=OPS)
        assert refused.value.field == field
    with pytest.raises(InvalidInput) as currency:
        await recon.issue(IssueStatement("acme", "eur", date(2026, 3, 1), date(2026, 3, 1)), by=OPS)
    assert currency.value.field == "currency"
    assert (await recon.list(OPS, page=PAGE)).total == 0 and await staged(books) == []
