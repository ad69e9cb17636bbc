"""Sample events (one per email), shared by notify's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from portal_contracts import Money
from portal_contracts.events.billing import (
    BillingContact,
    InvoiceIssued,
    InvoiceIssuedV2,
    InvoiceLine,
    InvoiceLineV2,
    PaymentConfirmed,
    PaymentInstruction,
    PaymentReceived,
    PurchasedPackage,
    UnitsBalanceLow,
    UnitsCapReached,
    UnitsCredited,
    UnitsPlanPaused,
    UnitsPurchased,
    UnitsPurchaseFailed,
    UnitsTopUpFailed,
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


# -- prepaid units (issue 13): acme's wallet, its purchases and its automatic plan ----------------

PURCHASE = uuid.UUID("77777777-8888-9999-aaaa-bbbbbbbbbbbb")
UNITS_INVOICE = uuid.UUID("88888888-9999-aaaa-bbbb-cccccccccccc")
# The plan's billing contact (an address other than the account's ops@acme.test).
CONTACT = BillingContact(name="Berta <Billing>", email="billing@acme.test")


def units_credited(account: str = "acme", kind: str = "purchased", source: str | None = "manual") -> UnitsCredited:
    """8,000 units credited (a purchase's, by default), the balance after it 7,980."""
    purchased = kind == "purchased"
    return UnitsCredited(
        account_id=account,
        entry_id=uuid.uuid4(),
        kind=kind,
        units=8000,
        balance_after=7980,
        purchase_id=PURCHASE if purchased else None,
        source=source if purchased else None,
        invoice_id=UNITS_INVOICE if purchased else None,
        credited_at=AT,
    )


def units_purchased(account: str = "acme", source: str = "manual") -> UnitsPurchased:
    """Three 1,000-unit packages and one of 5,000 (8,000 units, €346.00) paid with a Visa ending
    in 4242; a plan's purchase names the plan's billing contact."""
    return UnitsPurchased(
        account_id=account,
        purchase_id=PURCHASE,
        source=source,
        invoice_id=UNITS_INVOICE,
        invoice_number="INV-2026-0200",
        lines=[
            PurchasedPackage(
                item_id=uuid.uuid4(),
                sku="UNITS-1000",
                name="Starter pack",
                units=1000,
                quantity=3,
                unit_price=eur("49.00"),
                amount=eur("147.00"),
            ),
            PurchasedPackage(
                item_id=uuid.uuid4(),
                sku="UNITS-5000",
                name="Volume <5000>",
                units=5000,
                quantity=1,
                unit_price=eur("199.00"),
                amount=eur("199.00"),
            ),
        ],
        units=8000,
        total=eur("346.00"),
        card_brand="visa",
        card_last4="4242",
        balance_after=7980,
        billing_contact=CONTACT if source == "plan" else None,
        purchased_at=AT,
    )


def units_purchase_failed(account: str = "acme", reason: str = "insufficient_funds") -> UnitsPurchaseFailed:
    return UnitsPurchaseFailed(
        account_id=account,
        purchase_id=PURCHASE,
        invoice_id=UNITS_INVOICE,
        invoice_number="INV-2026-0201",
        total=eur("1234.80"),
        reason=reason,
        failed_at=AT,
    )


def units_balance_low(account: str = "acme") -> UnitsBalanceLow:
    return UnitsBalanceLow(account_id=account, balance=80, low_balance_at=1000, at=AT)


def units_top_up_failed(account: str = "acme", *, paused: bool = False) -> UnitsTopUpFailed:
    """The plan's second decline in a row, tried again an hour later (10:30 UTC); or its third,
    which paused the plan."""
    return UnitsTopUpFailed(
        account_id=account,
        purchase_id=PURCHASE,
        invoice_id=UNITS_INVOICE,
        invoice_number="INV-2026-0202",
        total=eur("1234.80"),
        reason="card_declined",
        declines_in_a_row=3 if paused else 2,
        next_attempt_at=None if paused else datetime(2026, 1, 10, 10, 30, tzinfo=UTC),
        plan_paused=paused,
        billing_contact=CONTACT,
        failed_at=AT,
    )


def units_plan_paused(account: str = "acme") -> UnitsPlanPaused:
    return UnitsPlanPaused(
        account_id=account, reason="declined", declines_in_a_row=3, billing_contact=CONTACT, paused_at=AT
    )


def units_cap_reached(account: str = "acme") -> UnitsCapReached:
    """January's cap of €300.00, €294.00 spent, a top-up of €147.00 needed: resumes on 1 February."""
    return UnitsCapReached(
        account_id=account,
        month="2026-01",
        cap=eur("300.00"),
        spent=eur("294.00"),
        needed=eur("147.00"),
        resumes_on=date(2026, 2, 1),
        billing_contact=CONTACT,
        reached_at=AT,
    )


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
UNITS = {
    "units_credited": units_credited,
    "units_purchased": units_purchased,
    "units_purchase_failed": units_purchase_failed,
    "units_balance_low": units_balance_low,
    "units_top_up_failed": units_top_up_failed,
    "units_plan_paused": units_plan_paused,
    "units_cap_reached": units_cap_reached,
}
ALL = {**SELLER_FLOW, **CLIENT_AREA, **UNITS}


# The B2B portal's emails to the account or a support request's sender (issue 14; the invitation,
# caused by UserInvited with notify's PORTAL_URL, is tested in test_b2b_emails.py).
from b2b_samples import quote_expiring, quote_sent, support_answered, support_received  # noqa: E402

B2B = {
    "quote_sent": quote_sent,
    "quote_expiring": quote_expiring,
    "support_request_received": support_received,
    "support_request_answered": support_answered,
}
ALL = {**ALL, **B2B}

# The order manager's emails (issue 15): a shipment (partial, the last), a cancellation, a message (the
# business's, to the account; the customer's to the business is tested in test_order_manager_emails.py).
from order_manager_samples import first_shipment, last_shipment, message, order_cancelled  # noqa: E402

ORDER_MANAGER = {
    "order_partially_shipped": first_shipment,
    "order_shipped": last_shipment,
    "order_cancelled": order_cancelled,
    "order_message": message,
}
ALL = {**ALL, **ORDER_MANAGER}

# Returns and the account's money (issue 16): an RMA's steps, its goods receipts, a credit note for returned
# goods, a reconciliation statement.
from returns_finance_samples import (  # noqa: E402
    credit_note_issued,
    expected_date_changed,
    goods_received,
    return_approved,
    return_rejected,
    return_requested,
    statement_issued,
)

RETURNS_FINANCE = {
    "rma_received": return_requested,
    "rma_approved": return_approved,
    "rma_rejected": return_rejected,
    "rma_expected_date_changed": expected_date_changed,
    "goods_received": goods_received,
    "credit_note_issued": credit_note_issued,
    "statement_issued": statement_issued,
}
ALL = {**ALL, **RETURNS_FINANCE}
