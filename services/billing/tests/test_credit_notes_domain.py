"""The credit note of a cancelled order (`billing.domain.credit_notes`), without a database: a paid
invoice is credited line by line (total = the invoice's), a part-paid one by one line of the
payments received (tax 0); refunded to the payers (latest payment first, with its method) or
credited to the account; never more than was paid; its own number series."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.domain.credit_notes import (
    CreditLine,
    CreditNote,
    CreditNoteIssued,
    Reason,
    Settlement,
    credit_note_number,
    for_cancelled_order,
    refunds_of,
)
from billing.domain.invoices import Instruction, Invoice, Line, Payment, Source, Status
from portal_runtime.errors import InvalidInput

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
ORDER = uuid.UUID("00000000-0000-4000-8000-0000000c0001")


def invoice(*, tax_rate: str = "0.19") -> Invoice:
    return Invoice.issue(
        number="INV-2026-000007",
        account_id="acme",
        currency="EUR",
        source=Source("order", str(ORDER)),
        lines=[
            Line("Paper A4", 3, Decimal("4.50"), sku="PAPER-A4", tax_rate=Decimal(tax_rate)),
            Line("Toner", 1, Decimal("20.00"), sku="TONER"),
            Line("Free sample", 1, Decimal("0.00")),
        ],
        expected_total=Decimal("33.50"),
        instructions=[Instruction("bank_transfer", {"iban": "DE00"})],
        now=NOW,
    )


def pay(inv: Invoice, amount: str, method: str = "card", *, minutes: int = 0) -> Payment:
    payment = Payment(
        id=uuid.uuid4(),
        method=method,
        amount=Decimal(amount),
        currency="EUR",
        payer_reference=f"{method}-payer",
        paid_at=NOW + timedelta(minutes=minutes),
        recorded_by="acme/alice",
    )
    inv.record_payment(payment, now=payment.paid_at)
    return payment


def cancelled(inv: Invoice, settlement: str | None, *, paid_in_full: bool) -> CreditNote:
    return for_cancelled_order(
        inv,
        order_id=ORDER,
        number="CN-2026-000001",
        settlement=settlement,
        paid_in_full=paid_in_full,
        by="system/orders",
        now=NOW,
        note="customer asked",
    )


def test_numbers_run_in_their_own_series():
    assert credit_note_number(2026, 1) == "CN-2026-000001"
    assert credit_note_number(2027, 123456) == "CN-2027-123456"
    with pytest.raises(ValueError):
        credit_note_number(2026, 0)


def test_a_paid_invoice_is_credited_line_by_line_to_the_account_by_default():
    inv = invoice()
    pay(inv, "36.07")  # net 33.50 + tax 2.57
    assert inv.status is Status.PAID
    note = cancelled(inv, None, paid_in_full=True)
    paper, toner = note.lines  # a line of nothing credits nothing
    assert (paper.invoice_line_id, paper.quantity, paper.unit_price, paper.line_total, paper.tax_rate, paper.tax) == (
        inv.lines[0].line_id,
        3,
        Decimal("4.50"),
        Decimal("13.50"),
        Decimal("0.19"),
        Decimal("2.57"),
    )
    assert (toner.invoice_line_id, toner.line_total, toner.tax) == (inv.lines[1].line_id, Decimal("20.00"), 0)
    assert (note.total, note.tax_total, note.gross == inv.total) == (Decimal("33.50"), Decimal("2.57"), True)
    assert (note.settlement, note.credited, note.refunded, note.refunds) == (Settlement.CREDIT, inv.total, 0, [])
    assert (note.reason, note.cause_id, note.order_id, note.note) == (
        Reason.CANCELLED_ORDER,
        str(ORDER),
        ORDER,
        "customer asked",
    )
    entry = note.credit_entry()
    assert (entry.account_id, entry.currency, entry.amount, entry.credit_note_id) == (
        "acme",
        "EUR",
        Decimal("36.07"),  # the gross: net + tax
        note.id,
    )
    assert note.events == [CreditNoteIssued(note)]


def test_a_refund_goes_back_to_each_payer_with_the_payments_method():
    inv = invoice()
    first = pay(inv, "10.00", "bank_transfer")
    second = pay(inv, "26.07", "card", minutes=5)
    note = cancelled(inv, "refund", paid_in_full=True)
    assert (note.refunded, note.credited, note.credit_entry()) == (Decimal("36.07"), 0, None)
    assert [(r.payment_id, r.method, r.amount, r.payer_reference) for r in note.refunds] == [
        (second.id, "card", Decimal("26.07"), "card-payer"),
        (first.id, "bank_transfer", Decimal("10.00"), "bank_transfer-payer"),
    ]


def test_a_part_paid_invoice_is_credited_by_the_payments_received_without_tax():
    inv = invoice()
    pay(inv, "12.00")
    inv.void(reason="admin", by="system/orders", now=NOW)
    note = cancelled(inv, "credit", paid_in_full=False)
    [line] = note.lines
    assert (line.description, line.invoice_line_id, line.quantity, line.line_total, line.tax) == (
        "Payments received on invoice INV-2026-000007 for cancelled order",
        None,
        1,
        Decimal("12.00"),
        0,
    )
    assert (note.total, note.tax_total, note.credited) == (Decimal("12.00"), 0, Decimal("12.00"))


def test_nothing_paid_makes_no_credit_note():
    assert cancelled(invoice(), "refund", paid_in_full=False) is None


def test_a_credit_note_never_gives_back_more_than_was_paid_or_invoiced():
    inv = invoice()
    pay(inv, "5.00")
    common = dict(
        number="CN-2026-000001",
        invoice=inv,
        reason=Reason.CANCELLED_ORDER,
        cause_id="x",
        settlement=Settlement.CREDIT,
        by="system/orders",
        now=NOW,
    )
    with pytest.raises(InvalidInput) as too_much:
        CreditNote.issue(lines=[CreditLine.of_payments(inv.number, Decimal("6.00"))], **common)
    assert too_much.value.field == "total"
    more = CreditLine(uuid.uuid4(), "Paper", 4, Decimal("1.00"), Decimal("4.00"), invoice_line_id=inv.lines[0].line_id)
    with pytest.raises(InvalidInput) as beyond:
        CreditNote.issue(lines=[more], **common)
    assert beyond.value.field == "lines[0].quantity"
    stranger = CreditLine(uuid.uuid4(), "?", 1, Decimal("1.00"), Decimal("1.00"), invoice_line_id=uuid.uuid4())
    with pytest.raises(InvalidInput) as unknown:
        CreditNote.issue(lines=[stranger], **common)
    assert unknown.value.field == "lines[0].invoice_line_id"
    with pytest.raises(InvalidInput) as empty:
        CreditNote.issue(lines=[], **common)
    assert empty.value.field == "lines"
    with pytest.raises(InvalidInput) as refund:
        refunds_of(inv.payments, Decimal("5.01"), currency="EUR", now=NOW)
    assert refund.value.field == "refunded"
