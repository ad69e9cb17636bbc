"""Sample events (one per email), shared by notify's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from portal_contracts import Money
from portal_contracts.events.billing import InvoiceIssued, InvoiceLine, PaymentConfirmed, PaymentInstruction
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
        request_id=request_id, account_id=account, submitted_at=AT, total=eur("1333.80"),
        lines=[
            RequestLine(item_id=uuid.uuid4(), name="SEO <boost>", quantity=2, unit_price=eur("617.40"),
                        line_total=eur("1234.80"), billing="recurring", billing_period_months=1),
            RequestLine(item_id=uuid.uuid4(), name="Setup", quantity=1, unit_price=eur("99"),
                        line_total=eur("99.00"), billing="one_time"),
        ],
    )


def information_requested(account: str = "acme") -> InformationRequested:
    return InformationRequested(request_id=REQUEST, account_id=account, asked_by="ops", asked_at=AT,
                                question="Which domain should we optimise? <b>example.com</b>?")


def rejected(account: str = "acme") -> RequestRejected:
    return RequestRejected(request_id=REQUEST, account_id=account, rejected_by="ops", rejected_at=AT,
                           reason="The add-on is not available in your region & plan.")


def invoice_issued(account: str = "acme") -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=uuid.uuid4(), number="INV-2026-0042", account_id=account, request_id=REQUEST,
        lines=[InvoiceLine(description="SEO boost", quantity=2, unit_price=eur("617.40"), line_total=eur("1234.80"))],
        total=eur("1234.80"), due_on=date(2026, 2, 15), issued_at=AT,
        payment_instructions=[
            PaymentInstruction(method="bank_transfer",
                               details={"iban": "DE89370400440532013000", "reference": "INV-2026-0042"}),
            PaymentInstruction(method="card", details={"payment_url": "https://pay.example/inv/42"}),
        ],
    )


def payment_confirmed(account: str = "acme") -> PaymentConfirmed:
    return PaymentConfirmed(invoice_id=uuid.uuid4(), number="INV-2026-0042", account_id=account,
                            amount_paid=eur("1234.8"), confirmed_at=AT)


def services_activated(account: str = "acme") -> ServicesActivated:
    return ServicesActivated(
        request_id=REQUEST, account_id=account, activated_at=AT,
        services=[ActivatedService(subscription_id=uuid.uuid4(), item_id=uuid.uuid4(), name="SEO boost",
                                   quantity=2, activated_on=date(2026, 1, 10), next_due_on=date(2026, 2, 10))],
    )


ALL = {
    "request_received": submitted,
    "information_requested": information_requested,
    "request_rejected": rejected,
    "invoice_issued": invoice_issued,
    "payment_received": payment_confirmed,
    "services_active": services_activated,
}
