"""Sample events (one per email), shared by notify's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from portal_contracts import Money
from portal_contracts.events.billing import (
    InvoiceIssued,
    InvoiceIssuedV2,
    InvoiceLine,
    InvoiceLineV2,
    PaymentConfirmed,
    PaymentInstruction,
    PaymentReceived,
)
from portal_contracts.events.orders import (
    AccountProfileChanged,
    ActivatedService,
    AddOnRef,
    InformationRequested,
    OrderLine,
    OrderPlaced,
    RequestLine,
    RequestRejected,
    RequestSubmitted,
    ServiceActivated,
    ServiceCancellationScheduled,
    ServiceCancelled,
    ServiceOverdue,
    ServiceReactivated,
    ServiceRenewed,
    ServicesActivated,
    ServiceSuspended,
    ServiceTerminated,
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


# --- the client area: orders, their invoices, services -------------------------------------------

ORDER = uuid.UUID("12121212-3434-5656-7878-909090909090")
HOSTING = uuid.UUID("aaaaaaaa-0000-0000-0000-000000000001")  # the parent service
SSL = uuid.UUID("aaaaaaaa-0000-0000-0000-000000000002")  # its add-on
BACKUP = uuid.UUID("aaaaaaaa-0000-0000-0000-000000000003")  # another add-on


def order_placed(account: str = "acme", source: str = "cart") -> OrderPlaced:
    """A cart order: a monthly hosting for example.com bought on 31 January and a prorated SSL
    add-on for an existing service; a renewal order (`source` renewal) is told by its invoice."""
    return OrderPlaced(
        order_id=ORDER,
        number="ORD-2026-0007",
        account_id=account,
        source=source,
        due_on=date(2026, 3, 31) if source == "renewal" else None,
        currency="EUR",
        total=eur("1237.55"),
        placed_at=AT,
        lines=[
            OrderLine(
                line_id=uuid.uuid4(),
                kind="new",
                item_id=uuid.uuid4(),
                sku="HOST-PRO",
                name="Web Hosting <Pro>",
                cycle="monthly",
                quantity=1,
                unit_price=eur("1234.80"),
                amount=eur("1234.80"),
                subscription_id=HOSTING,
                domain="example.com",
                period_start=date(2026, 1, 31),
                period_end=date(2026, 2, 28),
            ),
            OrderLine(
                line_id=uuid.uuid4(),
                kind="add_on",
                item_id=uuid.uuid4(),
                sku="SSL-ADV",
                name="Advanced SSL",
                cycle="annual",
                quantity=1,
                unit_price=eur("30.00"),
                amount=eur("2.75"),
                subscription_id=SSL,
                parent_subscription_id=uuid.uuid4(),
                period_start=date(2026, 1, 31),
                period_end=date(2026, 3, 3),
            ),
        ],
    )


def invoice_line(description: str, amount: str, start: date, end: date, subscription: uuid.UUID) -> InvoiceLineV2:
    return InvoiceLineV2(
        line_id=uuid.uuid4(),
        description=description,
        quantity=1,
        unit_price=eur(amount),
        line_total=eur(amount),
        tax_rate=Decimal("0"),
        tax=eur("0"),
        subscription_id=subscription,
        period_start=start,
        period_end=end,
    )


def renewal_invoice(account: str = "acme", source_kind: str = "renewal") -> InvoiceIssuedV2:
    """The renewal invoice of acme's services due on 31 March 2026: the hosting and its two add-ons,
    each for its next period (the SSL add-on yearly, on its own anchor)."""
    return InvoiceIssuedV2(
        invoice_id=uuid.uuid4(),
        number="INV-2026-0100",
        account_id=account,
        source_kind=source_kind,
        source_id=str(ORDER),
        currency="EUR",
        lines=[
            invoice_line("Web Hosting Pro (example.com)", "1204.80", date(2026, 3, 31), date(2026, 4, 30), HOSTING),
            invoice_line("Advanced SSL", "20.00", date(2026, 3, 31), date(2027, 3, 31), SSL),
            invoice_line("Backup", "10.00", date(2026, 3, 31), date(2026, 4, 30), BACKUP),
        ],
        total=eur("1234.80"),
        tax_total=eur("0"),
        due_on=date(2026, 3, 31),
        issued_at=AT,
        payment_instructions=[
            PaymentInstruction(
                method="bank_transfer", details={"iban": "DE89370400440532013000", "reference": "INV-2026-0100"}
            ),
            PaymentInstruction(method="card", details={"payment_url": "https://pay.example/inv/100"}),
        ],
    )


def order_invoice(account: str = "acme") -> InvoiceIssuedV2:
    """The invoice of a cart order (due at once)."""
    return renewal_invoice(account, source_kind="order").model_copy(update={"due_on": date(2026, 2, 15)})


def service_fields(account: str = "acme", **changes) -> dict:
    """What every service event says: acme's monthly hosting for example.com with two add-ons."""
    return {
        "subscription_id": HOSTING,
        "account_id": account,
        "name": "Web Hosting <Pro>",
        "domain": "example.com",
        "cycle": "monthly",
        "price": eur("1234.80"),
        "next_due_on": date(2026, 4, 30),
        "add_ons": [
            AddOnRef(subscription_id=SSL, name="Advanced SSL"),
            AddOnRef(subscription_id=BACKUP, name="Backup"),
        ],
        "at": AT,
        **changes,
    }


def service_activated(account: str = "acme") -> ServiceActivated:
    return ServiceActivated(**service_fields(account, next_due_on=date(2026, 2, 28)))


def service_renewed(account: str = "acme") -> ServiceRenewed:
    return ServiceRenewed(**service_fields(account), period_start=date(2026, 3, 31), period_end=date(2026, 4, 30))


def service_overdue(account: str = "acme") -> ServiceOverdue:
    return ServiceOverdue(
        **service_fields(account, next_due_on=date(2026, 3, 31)), due_on=date(2026, 3, 31), suspends_on=date(2026, 4, 7)
    )


def service_suspended(account: str = "acme", reason: str = "overdue") -> ServiceSuspended:
    return ServiceSuspended(**service_fields(account, next_due_on=date(2026, 3, 31)), reason=reason)


def service_reactivated(account: str = "acme") -> ServiceReactivated:
    return ServiceReactivated(**service_fields(account))


def service_terminated(account: str = "acme") -> ServiceTerminated:
    return ServiceTerminated(**service_fields(account, next_due_on=None))


def service_cancellation_scheduled(account: str = "acme") -> ServiceCancellationScheduled:
    return ServiceCancellationScheduled(**service_fields(account), ends_on=date(2026, 4, 30))


def service_cancelled(account: str = "acme", reason: str = "period_end") -> ServiceCancelled:
    return ServiceCancelled(**service_fields(account, next_due_on=None), reason=reason)


SELLER_FLOW = {
    "request_received": submitted,
    "information_requested": information_requested,
    "request_rejected": rejected,
    "invoice_issued": invoice_issued,
    "payment_received": payment_received,
    "services_active": services_activated,
}
CLIENT_AREA = {
    "order_received": order_placed,
    "order_invoice": renewal_invoice,
    "service_activated": service_activated,
    "service_renewed": service_renewed,
    "service_overdue": service_overdue,
    "service_suspended": service_suspended,
    "service_reactivated": service_reactivated,
    "service_terminated": service_terminated,
    "service_cancellation_scheduled": service_cancellation_scheduled,
    "service_cancelled": service_cancelled,
}
ALL = {**SELLER_FLOW, **CLIENT_AREA}
