"""The account ledger, advances, balances and the account statement on a real PostgreSQL (events stop
in the outbox): a sequence of invoices, a bank transfer, an account payment allocated oldest due
first with the rest on account, the next invoices paid from that credit (PaymentConfirmed), a
cancelled part-paid order (void + credit note), with hand-computed statements of two adjacent months,
balances and balance by order; an account payment replayed by its key pays once; two at once never
allocate one balance twice; the migration backfills what billing recorded before it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from ledger_testkit import OPS, Books
from sqlalchemy import select, text

from billing.adapters.ledger_tables import LedgerRow
from billing.bootstrap import definition
from billing.domain.invoices import Line, Status
from portal_contracts import Envelope
from portal_runtime.auth import Principal
from portal_runtime.db import OutboxRecord
from portal_runtime.errors import InvalidInput, NotFound

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal


@pytest.fixture
async def books(migrated_database):
    url = await migrated_database(definition())
    books = Books.on(url, START)
    yield books
    await books.engine.dispose()


async def outbox(books: Books) -> list[Envelope]:
    async with books.uow.sessions() as s:
        rows = await s.scalars(select(OutboxRecord.envelope).order_by(OutboxRecord.id))
        return [Envelope.model_validate(r) for r in rows]


def figures(statement) -> list[tuple]:
    return [(e.on.day, e.kind, e.debit, e.credit, e.balance) for e in statement.entries]


async def test_a_sequence_of_documents_gives_hand_computed_statements_and_balances(books):
    acme = f"acme-{uuid.uuid4().hex[:6]}"
    first = await books.order(acme, "27.50", number="ORD-2026-000101")  # 2 March, due that day
    books.clock.advance(days=3)
    await books.transfer(first, "10.00")  # 5 March
    books.clock.advance(days=5)
    second = await books.order(acme, "27.50")  # 10 March
    books.clock.advance(days=5)
    paid = await books.advance(acme, "50.00")  # 15 March: 17.50 + 27.50, 5.00 left
    assert [(a["invoice_number"], a["amount"]) for a in paid["allocations"]] == [
        (first.number, "17.50"),
        (second.number, "27.50"),
    ]
    assert (paid["advance"], paid["amount"]) == ("5.00", {"amount": "50.00", "currency": "EUR"})
    for invoice in (first, second):
        assert (await books.invoice(invoice.id)).status is Status.PAID
    books.clock.advance(days=18)
    third = await books.order(acme, "27.50")  # 2 April: 5.00 of it paid from the credit
    assert (third.status, third.amount_paid, [p.method for p in third.payments]) == (
        Status.PARTIALLY_PAID,
        D("5.00"),
        ["account_credit"],
    )
    books.clock.advance(days=1)
    await books.cancel(third, "credit")  # 3 April: voided (22.50 credited), its 5.00 back as a credit note
    books.clock.advance(days=3)
    fourth = await books.order(acme, "27.50")  # 6 April: the 5.00 credit again
    assert fourth.amount_paid == D("5.00")

    march = await books.statements.statement(acme, "EUR", date(2026, 3, 1), date(2026, 3, 31))
    assert (march.opening_balance, march.debits, march.credits, march.closing_balance) == (
        0,
        D("55.00"),
        D("60.00"),
        D("-5.00"),
    )
    assert figures(march) == [
        (2, "invoice", D("27.50"), 0, D("27.50")),
        (5, "payment", 0, D("10.00"), D("17.50")),
        (10, "invoice", D("27.50"), 0, D("45.00")),
        (15, "advance_payment", 0, D("50.00"), D("-5.00")),
    ]
    april = await books.statements.statement(acme, "EUR", date(2026, 4, 1), date(2026, 4, 30))
    assert (april.opening_balance, april.debits, april.credits, april.closing_balance) == (
        D("-5.00"),
        D("55.00"),
        D("27.50"),
        D("22.50"),
    )
    assert figures(april) == [
        (2, "invoice", D("27.50"), 0, D("22.50")),
        (3, "void", 0, D("22.50"), D("0.00")),
        (3, "credit_note", 0, D("5.00"), D("-5.00")),
        (6, "invoice", D("27.50"), 0, D("22.50")),
    ]
    assert april.entries[0].document_number == third.number
    # a closed period's figures never change: March read again after April's documents
    assert await books.statements.statement(acme, "EUR", date(2026, 3, 1), date(2026, 3, 31)) == march

    [eur] = (await books.balances.balance(OPS, acme)).balances
    assert (eur.currency, eur.owed, eur.advance, eur.balance) == ("EUR", D("22.50"), 0, D("22.50"))
    by_order = await books.balances.by_order(OPS, "EUR", acme)
    assert [(o.invoices, o.invoiced, o.paid, o.credited, o.due) for o in by_order.orders] == [
        ([first.number], D("27.50"), D("27.50"), 0, 0),
        ([second.number], D("27.50"), D("27.50"), 0, 0),
        ([third.number], D("27.50"), D("5.00"), 0, 0),
        ([fourth.number], D("27.50"), D("5.00"), 0, D("22.50")),
    ]
    assert (by_order.on_account, by_order.total) == (0, D("22.50"))
    assert [o.order_number for o in by_order.orders] == ["ORD-2026-000101", None, None, None]
    await books.check_identities(acme, [date(2026, 3, 1), date(2026, 3, 15), date(2026, 4, 3)], date(2026, 4, 30))

    told = await outbox(books)
    confirmed = {e.payload().invoice_id for e in told if e.type == "PaymentConfirmed"}
    assert {first.id, second.id} <= confirmed
    from_credit = [e.payload() for e in told if e.type == "PaymentReceived" and e.payload().invoice_id == fourth.id]
    assert [p.method for p in from_credit] == ["account_credit"]


async def test_a_new_invoice_taken_whole_by_the_credit_is_paid_and_confirmed(books):
    acme = f"acme-{uuid.uuid4().hex[:6]}"
    await books.advance(acme, "100.00")  # nothing open: all of it on account
    invoice = await books.order(acme, "20.00", tax_rate="0.19")  # 23.80 with tax
    assert (invoice.status, invoice.amount_paid) == (Status.PAID, D("23.80"))
    [eur] = (await books.balances.balance(OPS, acme)).balances
    assert (eur.owed, eur.advance, eur.balance) == (0, D("76.20"), D("-76.20"))
    assert await books.check_identities(acme, [date(2026, 3, 1), date(2026, 3, 2)], date(2026, 3, 31)) == D("-76.20")
    assert any(e.type == "PaymentConfirmed" and e.payload().invoice_id == invoice.id for e in await outbox(books))


async def test_an_account_payment_replayed_by_its_key_pays_once(books):
    acme = f"acme-{uuid.uuid4().hex[:6]}"
    invoice = await books.order(acme, "30.00")
    first = await books.advance(acme, "10.00", key="k-1")
    again = await books.advance(acme, "10.00", key="k-1")
    assert again == first
    assert (await books.invoice(invoice.id)).balance_due == D("20.00")
    assert await books.ledger_sum(acme) == D("20.00")
    with pytest.raises(InvalidInput) as reused:
        await books.advance(acme, "11.00", key="k-1")
    assert reused.value.field == "Idempotency-Key"


async def test_two_account_payments_at_once_never_allocate_one_balance_twice(books):
    acme = f"acme-{uuid.uuid4().hex[:6]}"
    invoice = await books.order(acme, "27.50")
    answers = await asyncio.gather(books.advance(acme, "20.00"), books.advance(acme, "20.00"))
    allocated = sorted(D(a["amount"]) for answer in answers for a in answer["allocations"])
    assert sum(allocated) == D("27.50") and sorted(D(a["advance"]) for a in answers) == [0, D("12.50")]
    assert (await books.invoice(invoice.id)).status is Status.PAID
    assert await books.check_identities(acme, [date(2026, 3, 1), date(2026, 3, 2)], date(2026, 3, 31)) == D("-12.50")


async def test_a_customer_reads_its_own_balance_and_statement_only(books):
    acme = f"acme-{uuid.uuid4().hex[:6]}"
    await books.order(acme, "27.50")
    customer = Principal("alice", acme, "customer")
    assert (await books.balances.balance(customer)).account_id == acme
    with pytest.raises(NotFound):
        await books.balances.balance(customer, "globex")
    with pytest.raises(InvalidInput) as unnamed:
        await books.balances.by_order(OPS, "EUR")
    assert unnamed.value.field == "account_id"
    with pytest.raises(InvalidInput) as backwards:
        await books.statements.for_caller(
            customer, currency="EUR", period_start=date(2026, 3, 5), period_end=date(2026, 3, 4)
        )
    assert backwards.value.field == "to"
    month = await books.statements.for_caller(customer, currency="EUR", period_start=None, period_end=None)
    assert (month.period_start, month.period_end, month.closing_balance) == (
        date(2026, 3, 1),
        date(2026, 3, 2),
        D("27.50"),
    )


async def test_the_migration_backfills_what_billing_recorded_before_the_ledger(books):
    """Rows written before 0012 (here: deleted and rebuilt by its backfill) come back the same."""
    acme = f"acme-{uuid.uuid4().hex[:6]}"
    first = await books.order(acme, "27.50")
    await books.transfer(first, "27.50")
    second = await books.order(acme, "27.50")
    await books.transfer(second, "5.00")
    await books.cancel(first, "refund")  # paid: credit note + refund
    await books.cancel(second, "credit")  # part-paid: void + credit note
    columns = (LedgerRow.kind, LedgerRow.document_id, LedgerRow.on, LedgerRow.debit, LedgerRow.credit)

    async def ledger() -> list[tuple]:
        async with books.uow.sessions() as s:
            return sorted((await s.execute(select(*columns).where(LedgerRow.account_id == acme))).all())

    written = await ledger()
    assert sorted(k for k, *_ in written) == [
        "credit_note",
        "credit_note",
        "invoice",
        "invoice",
        "payment",
        "payment",
        "refund",
        "void",
    ]
    async with books.uow.sessions() as s, s.begin():
        await s.execute(text("DELETE FROM account_ledger WHERE account_id = :a"), {"a": acme})
        for sql in migration().BACKFILL:
            await s.execute(text(sql + " ON CONFLICT DO NOTHING"), {"tz": "UTC"})
    assert await ledger() == written
    assert await books.check_identities(acme, [date(2026, 3, 1), date(2026, 3, 2)], date(2026, 3, 31)) == D("-5.00")


def migration():
    import importlib.util
    from pathlib import Path

    import billing

    path = Path(billing.__file__).parent / "migrations" / "versions" / "0012_account_ledger.py"
    spec = importlib.util.spec_from_file_location("billing_0012_account_ledger", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_an_approved_requests_invoice_is_paid_from_the_credit_and_a_unit_packages_is_not(books):
    from billing_testkit import approved

    from billing.consumers.orders import issue_command
    from billing.service.invoicing import IssueInvoice

    acme = f"acme-{uuid.uuid4().hex[:6]}"
    await books.advance(acme, "100.00")
    request = await books.billing.issue_invoice(issue_command(approved(acme)))  # 129.70
    assert (request.status, request.amount_paid, request.balance_due) == (
        Status.PARTIALLY_PAID,
        D("100.00"),
        D("29.70"),
    )
    await books.advance(acme, "10.00")  # pays 10.00 of it: nothing on account
    top_up = await books.billing.issue_invoice(
        IssueInvoice(
            source_kind="unit_top_up",
            source_id=str(uuid.uuid4()),
            account_id=acme,
            currency="EUR",
            lines=[Line("1000 units", 1, D("9.00"))],
        )
    )
    assert top_up.amount_paid == 0  # its card pays it (the unit purchase), never the account's credit
    [eur] = (await books.balances.balance(OPS, acme)).balances
    assert (eur.owed, eur.advance) == (D("28.70"), 0)
    assert await books.check_identities(acme, [date(2026, 3, 1)], date(2026, 3, 31)) == D("28.70")
