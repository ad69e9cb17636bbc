import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.domain.events import InvoiceIssued, InvoicePaid, PaymentRecorded, PaymentRejected
from billing.domain.invoices import Invoice, Line, Payment, Status, invoice_number
from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import InvalidTransition

NOW = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)


def make(lines=None, expected_total=Decimal("129.70"), currency="EUR"):
    lines = lines or [Line("SEO boost", 2, Decimal("49.90")), Line("Setup", 1, Decimal("29.90"))]
    return Invoice.issue(
        number="INV-2026-000001",
        account_id="acme",
        request_id=uuid.uuid4(),
        currency=currency,
        lines=lines,
        expected_total=expected_total,
        instructions=[],
        now=NOW,
    )


def pay(invoice, amount, currency="EUR"):
    payment = Payment(
        id=uuid.uuid4(),
        method="card",
        amount=Decimal(amount),
        currency=currency,
        payer_reference="acme",
        paid_at=NOW,
        recorded_by="acme",
    )
    invoice.record_payment(payment, now=NOW)
    return payment


@pytest.mark.parametrize(
    "year, seq, number",
    [(2026, 1, "INV-2026-000001"), (2027, 42, "INV-2027-000042"), (2026, 999999, "INV-2026-999999")],
)
def test_number_is_year_and_zero_padded_sequence(year, seq, number):
    assert invoice_number(year, seq) == number


def test_a_series_starts_at_one():
    with pytest.raises(ValueError):
        invoice_number(2026, 0)


def test_issue_computes_line_totals_total_and_due_date():
    invoice = make()
    assert [line.line_total for line in invoice.lines] == [Decimal("99.80"), Decimal("29.90")]
    assert invoice.total == Decimal("129.70")
    assert invoice.due_on == date(2026, 4, 3)  # issued + 14 days
    assert invoice.status == "issued" and invoice.balance_due == Decimal("129.70")
    [issued] = invoice.events
    assert isinstance(issued, InvoiceIssued)
    assert (issued.invoice_id, issued.number, issued.total, issued.due_on, issued.lines) == (
        invoice.id,
        "INV-2026-000001",
        Decimal("129.70"),
        date(2026, 4, 3),
        tuple(invoice.lines),
    )


def test_line_totals_round_half_up_to_cents():
    invoice = make(lines=[Line("metered", 3, Decimal("0.335"))], expected_total=Decimal("1.01"))
    assert invoice.lines[0].line_total == Decimal("1.01")


def test_total_that_does_not_add_up_is_refused_naming_total():
    with pytest.raises(InvalidInput) as err:
        make(expected_total=Decimal("100.00"))
    assert err.value.field == "total"


@pytest.mark.parametrize(
    "lines, field",
    [
        ([], "lines"),
        ([Line("x", 0, Decimal(1))], "lines[0].quantity"),
        ([Line("x", 1, Decimal(-1))], "lines[0].unit_price"),
        ([Line("x", 1, Decimal(1), currency="USD")], "lines[0].unit_price.currency"),
    ],
)
def test_bad_lines_name_the_field(lines, field):
    with pytest.raises(InvalidInput) as err:
        Invoice.issue(
            number="INV-2026-000001",
            account_id="acme",
            request_id=None,
            currency="EUR",
            lines=lines,
            expected_total=None,
            instructions=[],
            now=NOW,
        )
    assert err.value.field == field


def test_partial_payments_then_paid_once():
    invoice = make()
    invoice.events.clear()
    first = pay(invoice, "100.00")
    assert invoice.status == "partially_paid" and invoice.balance_due == Decimal("29.70")
    ids = dict(invoice_id=invoice.id, number=invoice.number, account_id="acme", request_id=invoice.request_id)
    assert invoice.events == [
        PaymentRecorded(
            **ids,
            currency="EUR",
            payment=first,
            amount_paid=Decimal("100.00"),
            balance_due=Decimal("29.70"),
            status=Status.PARTIALLY_PAID,
            source_kind="service_request",
        )
    ]
    invoice.events.clear()
    second = pay(invoice, "29.70")
    assert invoice.status == "paid" and invoice.balance_due == 0 and invoice.amount_paid == Decimal("129.70")
    assert invoice.events == [
        PaymentRecorded(
            **ids,
            currency="EUR",
            payment=second,
            amount_paid=Decimal("129.70"),
            balance_due=Decimal("0.00"),
            status=Status.PAID,
            source_kind="service_request",
        ),
        InvoicePaid(**ids, currency="EUR", amount_paid=Decimal("129.70"), at=NOW),
    ]


def test_each_payment_event_shows_the_invoice_as_it_stood_after_that_payment():
    from billing.adapters.events import to_contract

    invoice = make()
    invoice.events.clear()
    pay(invoice, "100.00")
    pay(invoice, "29.70")
    events = [to_contract(event) for event in invoice.events]
    assert [type(e).__name__ for e in events] == ["PaymentReceived", "PaymentReceived", "PaymentConfirmed"]
    first, second, confirmed = events
    assert (
        str(first.amount.amount),
        str(first.amount_paid.amount),
        str(first.balance_due.amount),
        first.invoice_status,
    ) == ("100.00", "100.00", "29.70", "partially_paid")
    assert (
        str(second.amount.amount),
        str(second.amount_paid.amount),
        str(second.balance_due.amount),
        second.invoice_status,
    ) == ("29.70", "129.70", "0.00", "paid")
    assert first.payment_id != second.payment_id and first.method == "card"
    assert str(confirmed.amount_paid.amount) == "129.70"


def test_paying_more_than_owed_names_amount_and_changes_nothing():
    invoice = make()
    pay(invoice, "100.00")
    with pytest.raises(InvalidInput) as err:
        pay(invoice, "29.71")
    assert err.value.field == "amount" and err.value.extra["balance_due"] == "29.70"
    assert invoice.amount_paid == Decimal("100.00") and len(invoice.payments) == 1


@pytest.mark.parametrize(
    "amount, currency, field",
    [
        ("10.00", "USD", "currency"),
        ("0", "EUR", "amount"),
        ("-5", "EUR", "amount"),
        ("1.001", "EUR", "amount"),
    ],
)
def test_payment_rules_name_the_field(amount, currency, field):
    with pytest.raises(InvalidInput) as err:
        make().check_payment(amount=Decimal(amount), currency=currency)
    assert err.value.field == field


def test_a_paid_invoice_takes_no_more_payments():
    invoice = make()
    pay(invoice, "129.70")
    invoice.events.clear()
    with pytest.raises(InvalidTransition) as err:
        pay(invoice, "1.00")
    assert err.value.status_code == 409 and err.value.extra["current_status"] == "paid"
    assert err.value.message == "invoice INV-2026-000001 is paid already"
    assert invoice.events == [] and len(invoice.payments) == 1


def test_an_invoice_of_nothing_owed_is_paid_when_issued():
    invoice = make(lines=[Line("free trial", 1, Decimal(0))], expected_total=Decimal(0))
    assert invoice.status == "paid" and [type(e) for e in invoice.events] == [InvoiceIssued]


def test_a_declined_payment_is_told_but_changes_nothing():
    invoice = make()
    invoice.events.clear()
    invoice.payment_failed(method="card", reason="card_declined", now=NOW)
    assert invoice.status == "issued" and invoice.payments == []
    assert invoice.events == [PaymentRejected(invoice.id, "acme", "card", "card_declined", NOW)]
