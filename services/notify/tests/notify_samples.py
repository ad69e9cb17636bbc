"""Sample events (one per email), shared by notify's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from portal_contracts import Money
from portal_contracts.events.billing import (
    InvoiceIssued,
    InvoiceLine,
    PaymentConfirmed,
    PaymentInstruction,
    PaymentReceived,
)
from portal_contracts.events.orders import (
    AccountProfileChanged,
    ActivatedService,
    InformationRequested,
    RequestLine,
    RequestRejected,
    RequestSubmitted,
    ServicesActivated,
)

AT = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
REQUEST = uuid.UUID("11111111-2222-3333-4444-555555555555")


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def profile(account: str, email: str, language: str = "en", at: datetime = AT) -> AccountProfileChanged:
    return AccountProfileChanged(account_id=account, email=email, language=language, changed_at=at)


def submitted(account: str = "acme", request_id: uuid.UUID = REQUEST) -> RequestSubmitted:
    return RequestSubmitted(
        request_id=request_id,
        account_id=account,
        submitted_at=AT,
        total=eur("1333.80"),
        lines=[
            RequestLine(
                item_id=uuid.uuid4(),
                name="SEO <boost>",
                quantity=2,
                unit_price=eur("617.40"),
                line_total=eur("1234.80"),
                billing="recurring",
                billing_period_months=1,
            ),
            RequestLine(
                item_id=uuid.uuid4(),
                name="Setup",
                quantity=1,
                unit_price=eur("99"),
                line_total=eur("99.00"),
                billing="one_time",
            ),
        ],
    )


def information_requested(account: str = "acme") -> InformationRequested:
    return InformationRequested(
        request_id=REQUEST,
        account_id=account,
        asked_by="ops",
        asked_at=AT,
        question="Which domain should we optimise? <b>example.com</b>?",
    )


def rejected(account: str = "acme") -> RequestRejected:
    return RequestRejected(
        request_id=REQUEST,
        account_id=account,
        rejected_by="ops",
        rejected_at=AT,
        reason="The add-on is not available in your region & plan.",
    )


def invoice_issued(account: str = "acme", invoice_id: uuid.UUID | None = None) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=invoice_id or uuid.uuid4(),
        number="INV-2026-0042",
        account_id=account,
        request_id=REQUEST,
        lines=[InvoiceLine(description="SEO boost", quantity=2, unit_price=eur("617.40"), line_total=eur("1234.80"))],
        total=eur("1234.80"),
        due_on=date(2026, 2, 15),
        issued_at=AT,
        payment_instructions=[
            PaymentInstruction(
                method="bank_transfer", details={"iban": "DE89370400440532013000", "reference": "INV-2026-0042"}
            ),
            PaymentInstruction(method="card", details={"payment_url": "https://pay.example/inv/42"}),
        ],
    )


def billed_invoice(account: str = "acme") -> InvoiceIssued:
    """The invoice as billing issues it: its three payment instructions with billing's own
    details (field names, an API path for cards) that the email must turn into sentences."""
    event = invoice_issued(account)
    return event.model_copy(
        update={
            "payment_instructions": [
                PaymentInstruction(
                    method="card",
                    details={
                        "how": f"POST /v1/invoices/{event.invoice_id}/payments with method card",
                        "accepted": "visa, mastercard, amex",
                    },
                ),
                PaymentInstruction(
                    method="bank_transfer",
                    details={
                        "beneficiary": "Portal Demo GmbH",
                        "iban": "DE89370400440532013000",
                        "bic": "COBADEFFXXX",
                        "reference": "INV-2026-0042",
                    },
                ),
                PaymentInstruction(
                    method="paypal", details={"payee": "billing@portal.example", "reference": "INV-2026-0042"}
                ),
            ]
        }
    )


INVOICE = uuid.UUID("66666666-7777-8888-9999-000000000000")


def payment_received(
    account: str = "acme",
    *,
    amount: str = "1234.8",
    paid: str = "1234.8",
    due: str = "0",
    method: str = "bank_transfer",
    invoice_id: uuid.UUID = INVOICE,
) -> PaymentReceived:
    """A payment of `amount` against the 1,234.80 EUR invoice, `paid` so far, `due` still owed."""
    return PaymentReceived(
        invoice_id=invoice_id,
        number="INV-2026-0042",
        account_id=account,
        request_id=REQUEST,
        payment_id=uuid.uuid4(),
        method=method,
        amount=eur(amount),
        amount_paid=eur(paid),
        balance_due=eur(due),
        invoice_status="paid" if Decimal(due) == 0 else "partially_paid",
        received_at=AT,
    )


def first_part_paid(account: str = "acme", invoice_id: uuid.UUID = INVOICE) -> PaymentReceived:
    """500 EUR of the 1,234.80 EUR invoice, by bank transfer: 734.80 EUR still due."""
    return payment_received(account, amount="500", paid="500", due="734.80", invoice_id=invoice_id)


def rest_paid(account: str = "acme", invoice_id: uuid.UUID = INVOICE) -> PaymentReceived:
    """The remaining 734.80 EUR: the invoice is paid in full."""
    return payment_received(account, amount="734.80", paid="1234.80", due="0.00", invoice_id=invoice_id)


def payment_confirmed(account: str = "acme", invoice_id: uuid.UUID = INVOICE) -> PaymentConfirmed:
    """What billing publishes after the settling payment (orders' cause; no email of its own)."""
    return PaymentConfirmed(
        invoice_id=invoice_id,
        number="INV-2026-0042",
        account_id=account,
        request_id=REQUEST,
        amount_paid=eur("1234.8"),
        confirmed_at=AT,
    )


def services_activated(account: str = "acme") -> ServicesActivated:
    return ServicesActivated(
        request_id=REQUEST,
        account_id=account,
        activated_at=AT,
        services=[
            ActivatedService(
                subscription_id=uuid.uuid4(),
                item_id=uuid.uuid4(),
                name="SEO boost",
                quantity=2,
                activated_on=date(2026, 1, 10),
                next_due_on=date(2026, 2, 10),
            )
        ],
    )


ALL = {
    "request_received": submitted,
    "information_requested": information_requested,
    "request_rejected": rejected,
    "invoice_issued": invoice_issued,
    "payment_received": payment_received,
    "services_active": services_activated,
}
