"""The ledger's rules without a database: what each record writes (an invoice its total, a credit
note its gross, a void what was still due, a payment from the account's credit nothing), how an
account payment is allocated (oldest due first, at most what each invoice may take), what an
account payment refuses (naming the field), and the statement's identities."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.domain.credit_notes import CreditLine, CreditNote, Reason, Refund, Settlement
from billing.domain.invoices import Invoice, Line, Payment, Reservation, Source
from billing.domain.ledger import AccountPayment, LedgerEntry, LedgerKind, allocate
from billing.domain.statements import build_statement
from portal_runtime.errors import InvalidInput

NOW = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)  # 1 April in Berlin
BERLIN = ZoneInfo("Europe/Berlin")


def invoice(number: str, total: str, *, due_on: date = date(2026, 4, 14), issued: datetime = NOW) -> Invoice:
    return Invoice.issue(
        number=number,
        account_id="acme",
        currency="EUR",
        lines=[Line("Goods", 1, Decimal(total))],
        expected_total=None,
        instructions=[],
        now=issued,
        source=Source("order", str(uuid.uuid4())),
        due_on=due_on,
    )


def pay(inv: Invoice, amount: str, method: str = "bank_transfer") -> Payment:
    payment = Payment(uuid.uuid4(), method, Decimal(amount), "EUR", "bank", NOW, "ops/olga")
    inv.record_payment(payment, now=NOW)
    return payment


def test_an_invoice_is_a_debit_of_its_total_on_its_business_date():
    inv = invoice("INV-2026-000001", "119.00")
    entry = LedgerEntry.of_invoice(inv, BERLIN)
    assert (entry.kind, entry.on, entry.debit, entry.credit, entry.document_number) == (
        LedgerKind.INVOICE,
        date(2026, 4, 1),
        Decimal("119.00"),
        0,
        "INV-2026-000001",
    )
    assert (entry.source_kind, entry.source_id) == ("order", inv.source.id)
    assert LedgerEntry.of_invoice(inv, UTC).on == date(2026, 3, 31)


def test_a_payment_is_a_credit_and_a_void_credits_what_was_still_due():
    inv = invoice("INV-2026-000001", "100.00")
    payment = pay(inv, "40.00")
    assert LedgerEntry.of_payment(inv, payment, UTC).credit == Decimal("40.00")
    inv.void(reason="unpaid", by="system/orders", now=NOW + timedelta(days=3))
    [step] = inv.history
    void = LedgerEntry.of_void(inv, inv.balance_due, step.at, UTC)
    assert (void.kind, void.credit, void.on) == (LedgerKind.VOID, Decimal("60.00"), date(2026, 4, 3))


def test_a_credit_note_credits_its_gross_and_a_refund_is_a_debit():
    inv = invoice("INV-2026-000001", "119.00")
    pay(inv, "119.00")
    line = CreditLine(uuid.uuid4(), "Goods", 1, Decimal("100.00"), Decimal("100.00"), Decimal("0.19"), Decimal("19"))
    note = CreditNote.issue(
        number="CN-2026-000001",
        invoice=inv,
        lines=[line],
        reason=Reason.CANCELLED_ORDER,
        cause_id="x",
        settlement=Settlement.CREDIT,
        by="ops/olga",
        now=NOW,
    )
    entry = LedgerEntry.of_credit_note(note, UTC)
    assert (entry.kind, entry.credit, entry.document_number) == (LedgerKind.CREDIT_NOTE, Decimal("119.00"), note.number)
    refund = Refund(uuid.uuid4(), None, "card", Decimal("20.00"), "EUR", "acme", NOW)
    back = LedgerEntry.of_refund(note, refund, UTC)
    assert (back.kind, back.debit, back.amount) == (LedgerKind.REFUND, Decimal("20.00"), Decimal("20.00"))


def test_an_account_payment_pays_the_oldest_due_first_each_at_most_what_it_may_take():
    late = invoice("INV-2026-000003", "50.00", due_on=date(2026, 5, 1))
    early = invoice("INV-2026-000002", "30.00", due_on=date(2026, 4, 1))
    same_day_later = invoice("INV-2026-000004", "20.00", due_on=date(2026, 4, 1), issued=NOW + timedelta(hours=1))
    early.reserve(Reservation(uuid.uuid4(), Decimal("10.00"), "card", NOW), currency="EUR")  # a card in flight
    parts = allocate(Decimal("70.00"), [late, early, same_day_later])
    assert [(i.number, a) for i, a in parts] == [
        ("INV-2026-000002", Decimal("20.00")),
        ("INV-2026-000004", Decimal("20.00")),
        ("INV-2026-000003", Decimal("30.00")),
    ]
    assert allocate(Decimal("5.00"), []) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": Decimal("0")}, "amount.amount"),
        ({"amount": Decimal("1.005")}, "amount.amount"),
        ({"method": "barter"}, "method"),
        ({"received_on": date(2026, 4, 2)}, "received_on"),
        ({"account_id": " "}, "account_id"),
    ],
)
def test_an_account_payment_refuses_naming_the_field(change, field):
    asked = {
        "account_id": "acme",
        "currency": "EUR",
        "amount": Decimal("10.00"),
        "method": "bank_transfer",
        "reference": None,
        "received_on": None,
        "today": date(2026, 4, 1),
        "now": NOW,
        "by": "ops/olga",
    }
    with pytest.raises(InvalidInput) as refused:
        AccountPayment.receive(**{**asked, **change})
    assert refused.value.field == field
    ok = AccountPayment.receive(**asked)
    assert (ok.received_on, ok.advance, ok.allocated) == (date(2026, 4, 1), Decimal("10.00"), 0)


def entry(on: date, debit: str = "0", credit: str = "0") -> LedgerEntry:
    return LedgerEntry(
        uuid.uuid4(),
        "acme",
        "EUR",
        on,
        NOW,
        LedgerKind.INVOICE,
        uuid.uuid4(),
        "N",
        "x",
        Decimal(debit),
        Decimal(credit),
    )


def test_a_statement_runs_its_balance_and_closes_at_opening_plus_debits_less_credits():
    s = build_statement(
        account_id="acme",
        currency="EUR",
        period_start=date(2026, 4, 1),
        period_end=date(2026, 4, 30),
        opening_balance=Decimal("10.00"),
        entries=[entry(date(2026, 4, 1), debit="100.00"), entry(date(2026, 4, 9), credit="30.00")],
    )
    assert [e.balance for e in s.entries] == [Decimal("110.00"), Decimal("80.00")]
    assert (s.debits, s.credits, s.closing_balance) == (Decimal("100.00"), Decimal("30.00"), Decimal("80.00"))
    with pytest.raises(InvalidInput) as refused:
        build_statement(
            account_id="acme",
            currency="EUR",
            period_start=date(2026, 4, 2),
            period_end=date(2026, 4, 1),
            opening_balance=Decimal(0),
            entries=[],
        )
    assert refused.value.field == "to"
