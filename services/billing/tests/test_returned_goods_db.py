"""Credit notes for returned goods on a real PostgreSQL (no broker: events stop in the outbox): a
goods receipt told several times at once credits once; two receipts of one invoice at once never
credit a line beyond what was invoiced, and together credit exactly its net and tax; a credit note
takes first what the invoice still owes (`amount_credited`, settling it: paid + PaymentConfirmed)
and refunds or credits the rest; the ledger, the statement and the balances keep their identities."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from ledger_testkit import OPS, Books
from sqlalchemy import func, select

from billing.adapters.credit_note_tables import CreditNoteRow, RefundRow
from billing.bootstrap import definition
from billing.consumers.returned_goods import received_goods
from billing.domain.credit_notes import Reason
from billing.domain.invoices import Invoice, Line, Status
from billing.service.orders import InvoiceOrder
from billing.service.returned_goods import ReturnedGoods
from portal_contracts import Envelope
from portal_contracts.events.returns import GoodsReceived, ReceivedLine
from portal_runtime.db import OutboxRecord

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
D = Decimal


@pytest.fixture
async def books(migrated_database):
    books = Books.on(await migrated_database(definition()), NOW)
    yield books
    await books.engine.dispose()


async def goods_order(books: Books, account: str = "acme") -> Invoice:
    """3 × 3.33 at 19 % (net 9.99, tax 1.90) and 2 × 10.00 at 7 % (net 20.00, tax 1.40): 33.29."""
    lines = [
        Line("Paper A4", 3, D("3.33"), sku="PAPER-A4", tax_rate=D("0.19"), line_id=uuid.uuid4()),
        Line("Book", 2, D("10.00"), sku="BOOK", tax_rate=D("0.07"), line_id=uuid.uuid4()),
    ]
    cmd = InvoiceOrder(uuid.uuid4(), "cart", account, "EUR", lines=lines, total=D("29.99"))
    invoice = await books.billing.invoice_order(cmd)
    assert invoice.total == D("33.29")
    return invoice


def receipt(invoice: Invoice, *lines: tuple[int, int], resolution: str = "refund", status="partly_received"):
    return GoodsReceived(
        receipt_id=uuid.uuid4(),
        number="GR-2026-000001",
        rma_id=uuid.uuid4(),
        rma_number="RMA-2026-000001",
        account_id=invoice.account_id,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        resolution=resolution,
        lines=[
            ReceivedLine(invoice_line_id=invoice.lines[i].line_id, description=invoice.lines[i].description, quantity=q)
            for i, q in lines
        ],
        rma_status=status,
        received_by="ops/olga",
        received_at=NOW,
    )


async def outbox(books: Books, type_: str) -> list[Envelope]:
    async with books.uow.sessions() as s:
        rows = await s.scalars(select(OutboxRecord.envelope).order_by(OutboxRecord.id))
        return [e for e in (Envelope.model_validate(r) for r in rows) if e.type == type_]


async def test_a_receipt_told_at_once_three_times_credits_once(books):
    invoice = await goods_order(books)
    await books.transfer(invoice, "33.29")
    returned = ReturnedGoods(books.uow, books.clock)
    event = receipt(invoice, (1, 1))
    notes = await asyncio.gather(*(returned.receive(received_goods(event)) for _ in range(3)), return_exceptions=True)
    made = [n for n in notes if n is not None and not isinstance(n, BaseException)]
    assert len(made) == 1, notes
    assert await returned.receive(received_goods(event)) is None  # told again later: nothing
    async with books.uow.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(CreditNoteRow)) == 1
        assert await s.scalar(select(func.count()).select_from(RefundRow)) == 1
    [issued] = await outbox(books, "CreditNoteIssued")
    payload = issued.data
    assert (payload["reason"], payload["receipt_id"], payload["rma_id"]) == (
        "returned_goods",
        str(event.receipt_id),
        str(event.rma_id),
    )
    assert (payload["total"]["amount"], payload["tax_total"]["amount"], payload["applied"]["amount"]) == (
        "10.00",
        "0.70",
        "0.00",
    )
    assert payload["refunded"]["amount"] == "10.70"
    assert await books.check_identities("acme", [date(2026, 3, 1)], NOW.date()) == 0


async def test_two_receipts_at_once_credit_a_line_exactly_once_in_full(books):
    invoice = await goods_order(books)
    await books.transfer(invoice, "33.29")
    returned = ReturnedGoods(books.uow, books.clock)
    # 2 + 2 of 3 papers: whichever comes second credits only the 1 left, at exactly what is left
    a, b = receipt(invoice, (0, 2), resolution="credit"), receipt(invoice, (0, 2), resolution="credit")
    await asyncio.gather(returned.receive(received_goods(a)), returned.receive(received_goods(b)))
    notes = (await books.billing.list_credit_notes(OPS, invoice_id=invoice.id, page=_page())).items
    assert sorted(line.quantity for n in notes for line in n.lines) == [1, 2]
    assert sum(n.total for n in notes) == D("9.99") and sum(n.tax_total for n in notes) == D("1.90")
    credit = await books.billing.account_credit(OPS, "acme")
    assert [(b.currency, b.amount) for b in credit.balances] == [("EUR", D("11.89"))]
    assert await books.check_identities("acme", [date(2026, 3, 1)], NOW.date()) == D("-11.89")


async def test_an_unpaid_invoice_owes_less_and_is_settled_by_the_credit_that_leaves_nothing(books):
    invoice = await goods_order(books)
    await books.transfer(invoice, "10.00")
    returned = ReturnedGoods(books.uow, books.clock)
    first = await returned.receive(received_goods(receipt(invoice, (1, 2), resolution="credit")))
    assert (first.reason, first.gross, first.applied, first.credited) == (
        Reason.RETURNED_GOODS,
        D("21.40"),
        D("21.40"),
        0,
    )
    after = await books.invoice(invoice.id)
    assert (after.amount_credited, after.balance_due, after.status) == (D("21.40"), D("1.89"), Status.PARTIALLY_PAID)
    assert await books.check_identities("acme", [date(2026, 3, 1)], NOW.date()) == D("1.89")
    confirmed_before = len(await outbox(books, "PaymentConfirmed"))
    second = await returned.receive(received_goods(receipt(invoice, (0, 3), status="received")))
    assert (second.applied, second.refunded, second.credited) == (D("1.89"), D("10.00"), 0)
    settled = await books.invoice(invoice.id)
    assert (settled.amount_credited, settled.balance_due, settled.status) == (D("23.29"), 0, Status.PAID)
    assert len(await outbox(books, "PaymentConfirmed")) == confirmed_before + 1
    listed = (await books.billing.list_invoices(OPS, account_id="acme", status=None, page=_page())).items
    assert [(i.amount_credited, i.balance_due) for i in listed] == [(D("23.29"), 0)]
    assert await books.check_identities("acme", [date(2026, 3, 1)], NOW.date()) == 0


async def test_replace_credits_nothing_and_another_accounts_invoice_is_not_credited(books):
    invoice = await goods_order(books)
    returned = ReturnedGoods(books.uow, books.clock)
    assert await returned.receive(received_goods(receipt(invoice, (0, 1), resolution="replace"))) is None
    stranger = receipt(invoice, (0, 1)).model_copy(update={"account_id": "globex"})
    assert await returned.receive(received_goods(stranger)) is None
    by_number = receipt(invoice, (0, 1), resolution="credit").model_copy(update={"invoice_id": None})
    note = await returned.receive(received_goods(by_number))
    assert note.invoice_id == invoice.id and note.number == "CN-2026-000001"  # no number lost before


def _page():
    from portal_runtime.paging import PageRequest

    return PageRequest(50, 0)
