"""Credit notes for returned goods (`billing.domain.returned_goods`), without a database: each
received line at the invoice line's unit net price and tax rate, tax half-up from the net; the
credit that completes a line takes exactly what is left of it (a full return in parts credits
exactly what was invoiced); never beyond the invoiced quantity; the gross takes first what the
invoice still owes (settling it when nothing is left), the rest refunded (latest payment first;
what the account's credit paid goes back there) or credited to the account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from billing.domain.credit_notes import CreditNoteIssued, Reason, Settlement
from billing.domain.events import InvoicePaid
from billing.domain.invoices import Instruction, Invoice, Line, Payment, Source, Status
from billing.domain.returned_goods import (
    Credited,
    ReceivedGoods,
    ReceivedLine,
    credit_lines,
    for_returned_goods,
)

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
D = Decimal


def invoice() -> Invoice:
    """3 × 3.33 at 19 % (net 9.99, tax 1.90) and 2 × 10.00 at 7 % (net 20.00, tax 1.40): 33.29."""
    return Invoice.issue(
        number="INV-2026-000009",
        account_id="acme",
        currency="EUR",
        source=Source("order", str(uuid.uuid4())),
        lines=[
            Line("Paper A4", 3, D("3.33"), sku="PAPER-A4", tax_rate=D("0.19")),
            Line("Book", 2, D("10.00"), sku="BOOK", tax_rate=D("0.07")),
        ],
        expected_total=D("29.99"),
        instructions=[Instruction("bank_transfer", {"iban": "DE00"})],
        now=NOW,
    )


def pay(inv: Invoice, amount: str, method: str = "card", *, minutes: int = 0) -> Payment:
    payment = Payment(
        id=uuid.uuid4(),
        method=method,
        amount=D(amount),
        currency="EUR",
        payer_reference=f"{method}-payer",
        paid_at=NOW + timedelta(minutes=minutes),
        recorded_by="ops/olga",
    )
    inv.record_payment(payment, now=payment.paid_at)
    return payment


def goods(inv: Invoice, *lines: tuple[int, int], resolution: str = "refund") -> ReceivedGoods:
    """`lines`: (index of the invoice line, quantity)."""
    return ReceivedGoods(
        receipt_id=uuid.uuid4(),
        receipt_number="GR-2026-000001",
        rma_id=uuid.uuid4(),
        rma_number="RMA-2026-000001",
        account_id="acme",
        invoice_id=inv.id,
        invoice_number=inv.number,
        resolution=resolution,
        lines=tuple(ReceivedLine(inv.lines[i].line_id, inv.lines[i].description, q) for i, q in lines),
        received_at=NOW,
    )


def credit(inv: Invoice, received: ReceivedGoods, credited: dict, returned: dict | None = None, n: int = 1):
    note = for_returned_goods(
        inv, received, number=f"CN-2026-{n:06d}", credited=credited, returned=returned or {}, now=NOW
    )
    for line in note.lines:
        before = credited.get(line.invoice_line_id, Credited())
        credited[line.invoice_line_id] = before.plus(line)
    for refund in note.refunds:
        returned[refund.payment_id] = returned.get(refund.payment_id, D(0)) + refund.amount
    return note


def test_the_invoice_is_taxed_per_line():
    inv = invoice()
    assert (inv.net_total, inv.tax_total, inv.total) == (D("29.99"), D("3.30"), D("33.29"))


def test_a_full_return_in_parts_credits_exactly_what_was_invoiced_tax_rounded_half_up():
    inv = invoice()
    pay(inv, "33.29")
    credited, returned = {}, {}
    first = credit(inv, goods(inv, (0, 1)), credited, returned)
    [paper] = first.lines
    # net = cents(9.99 × 1/3) = 3.33; tax = cents(3.33 × 0.19 = 0.6327) = 0.63
    assert (paper.quantity, paper.unit_price, paper.line_total, paper.tax_rate, paper.tax) == (
        1,
        D("3.33"),
        D("3.33"),
        D("0.19"),
        D("0.63"),
    )
    second = credit(inv, goods(inv, (0, 1), (1, 1)), credited, returned, n=2)
    assert [(line.line_total, line.tax) for line in second.lines] == [(D("3.33"), D("0.63")), (D("10.00"), D("0.70"))]
    # the last paper takes what is left: net 9.99 - 6.66 = 3.33, tax 1.90 - 1.26 = 0.64 (not 0.63)
    third = credit(inv, goods(inv, (0, 1), (1, 1)), credited, returned, n=3)
    assert [(line.line_total, line.tax) for line in third.lines] == [(D("3.33"), D("0.64")), (D("10.00"), D("0.70"))]
    notes = (first, second, third)
    assert sum(n.total for n in notes) == inv.net_total
    assert sum(n.tax_total for n in notes) == inv.tax_total
    assert sum(n.gross for n in notes) == inv.total == sum(r.amount for n in notes for r in n.refunds)
    assert all(n.applied == 0 and n.reason is Reason.RETURNED_GOODS for n in notes)
    # nothing is left: a receipt beyond the invoiced quantity credits nothing
    assert credit_lines(inv, goods(inv, (0, 1)), credited) == []


def test_a_part_cap_never_credits_more_than_the_line_before_its_last_unit():
    """10 × 0.015 = 0.15: each unit's cents(0.015) = 0.02 would pass the line's net after 8 units."""
    inv = Invoice.issue(
        number="INV-2026-000010",
        account_id="acme",
        currency="EUR",
        source=Source("order", str(uuid.uuid4())),
        lines=[Line("Screws", 10, D("0.015"), amount=D("0.15"), tax_rate=D("0.19"))],
        expected_total=D("0.15"),
        instructions=[],
        now=NOW,
    )
    credited = {}
    for _ in range(1, 10):
        lines = credit_lines(inv, goods(inv, (0, 1)), credited)
        for line in lines:
            credited[line.invoice_line_id] = credited.get(line.invoice_line_id, Credited()).plus(line)
    last = credit_lines(inv, goods(inv, (0, 1)), credited)
    total = credited[inv.lines[0].line_id].plus(last[0])
    assert (total.quantity, total.net, total.tax) == (10, D("0.15"), inv.lines[0].tax_amount)
    assert last[0].line_total >= 0 and last[0].tax >= 0


def test_an_unpaid_invoice_is_credited_first_and_settled_when_nothing_is_left():
    inv = invoice()
    pay(inv, "10.00")
    inv.events.clear()
    note = credit(inv, goods(inv, (1, 2)), {}, {})  # the books: 20.00 + 1.40 tax
    assert (note.gross, note.applied, note.refunded, note.credited) == (D("21.40"), D("21.40"), 0, 0)
    assert (inv.amount_credited, inv.balance_due, inv.status) == (D("21.40"), D("1.89"), Status.PARTIALLY_PAID)
    more = credit(inv, goods(inv, (0, 3)), {}, {}, n=2)  # 9.99 + 1.90 = 11.89: 1.89 owed, 10.00 back
    assert (more.applied, more.refunded) == (D("1.89"), D("10.00"))
    assert (inv.balance_due, inv.status) == (0, Status.PAID)
    assert [type(e) for e in inv.events] == [InvoicePaid]
    assert inv.history[-1].to_status is Status.PAID and inv.history[-1].note == "credit note CN-2026-000002"
    assert more.events == [CreditNoteIssued(more)]


def test_credit_resolution_goes_to_the_account_and_account_credit_payments_go_back_there():
    inv = invoice()
    pay(inv, "33.29", "account_credit")
    note = credit(inv, goods(inv, (1, 1), resolution="credit"), {}, {})
    assert (note.settlement, note.credited, note.refunded, note.credit_entry().amount) == (
        Settlement.CREDIT,
        D("10.70"),
        0,
        D("10.70"),
    )
    refund = credit(inv, goods(inv, (1, 1), resolution="refund"), {}, {}, n=2)
    assert (refund.refunds, refund.credited, refund.refunded) == ([], D("10.70"), 0)  # paid from credit: back there


def test_refunds_take_the_latest_payment_first_and_never_twice():
    inv = invoice()
    first = pay(inv, "20.00", "bank_transfer")
    second = pay(inv, "13.29", minutes=5)
    credited, returned = {}, {}
    a = credit(inv, goods(inv, (1, 1)), credited, returned)  # 10.70
    b = credit(inv, goods(inv, (1, 1)), credited, returned, n=2)  # 10.70
    assert [(r.payment_id, r.amount) for r in a.refunds] == [(second.id, D("10.70"))]
    assert [(r.payment_id, r.amount) for r in b.refunds] == [(second.id, D("2.59")), (first.id, D("8.11"))]


def test_replace_and_repair_credit_nothing():
    inv = invoice()
    for resolution in ("replace", "repair"):
        assert (
            for_returned_goods(
                inv, goods(inv, (0, 1), resolution=resolution), number="x", credited={}, returned={}, now=NOW
            )
            is None
        )


def test_a_line_named_by_description_and_unknown_lines():
    inv = invoice()
    received = ReceivedGoods(
        receipt_id=uuid.uuid4(),
        receipt_number="GR-2026-000002",
        rma_id=uuid.uuid4(),
        rma_number="RMA-2026-000002",
        account_id="acme",
        invoice_id=None,
        invoice_number=inv.number,
        resolution="credit",
        lines=(ReceivedLine(None, "BOOK", 1), ReceivedLine(uuid.uuid4(), "?", 1)),
        received_at=NOW,
    )
    [line] = credit_lines(inv, received, {})
    assert (line.invoice_line_id, line.line_total, line.tax) == (inv.lines[1].line_id, D("10.00"), D("0.70"))


def test_a_payment_in_flight_keeps_what_it_holds_and_the_credit_stays_on_the_account():
    from billing.domain.invoices import Reservation

    inv = invoice()
    held = Reservation(uuid.uuid4(), D("33.29"), "card", NOW)
    inv.reserve(held, currency="EUR")
    note = credit(inv, goods(inv, (1, 1)), {}, {})  # refund asked, but nothing was paid yet
    assert (note.applied, note.refunded, note.credited, note.refunds) == (0, 0, D("10.70"), [])
    card = Payment(uuid.uuid4(), "card", D("33.29"), "EUR", "card-payer", NOW, "acme/alice")
    inv.record_payment(card, now=NOW, reservation_id=held.id)  # the payment in flight still fits
    assert inv.status is Status.PAID
