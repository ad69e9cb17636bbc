"""Which contract event causes which email, and what the template sees of it.

One invoice is one email although billing publishes it twice (InvoiceIssued v1, then v2): the
seller flow's invoice (v1 with a `request_id`) keeps its email from v1, the client area's
(v2 with `source_kind` order or renewal) has its own from v2, and neither version causes a
second one. A renewal order is told by its invoice: only a cart's OrderPlaced is "order received"; OrderPlaced v2
(cart, quote, reorder, channel; goods lines as quantity × unit price) is too, and an order told by
both versions is one email (`dedup_key_of`: the order's id, unique per audience in deliveries).
A unit purchase's invoice (`unit_top_up`) is told by its receipt (UnitsPurchased), which names the
invoice, its lines and the card: neither version of its InvoiceIssued causes an email, nor its
PaymentReceived (whose `source_kind` says what the invoice is for).

Most emails go to the account; a support request's (received, answered) go to its sender, a user of
the account (`user_addressee_of`, `Audience.USER`), in the user's language; quotes go to the account.
The automatic unit plan's notices go to the plan's billing
contact too (`billing_contact_of`): a plan's receipt, a declined top-up, the plan paused, the cap
reached; the contact's email is rendered in the account's language, greeting the contact by name.

The order manager (issue 15): a shipment that left (OrderShipped) is "order shipped" when nothing is
left to ship, else "order partially shipped"; a cancelled order (OrderCancelled with its `number`, which
orders sets from the order manager on; an older one without it causes none) is "order cancelled", one
per order; a message in an order's thread (OrderMessagePosted) is emailed to the other side: the
business's message to the account, the customer's to the business's own address (`business_addressed`,
`Audience.BUSINESS`, notify's settings BUSINESS_EMAIL and BUSINESS_LANGUAGE). Each is one email per
shipment, order and message (`dedup_key_of`), however often (and by however many events) it is told.

Returns and the account's money (issue 16), each to the account, once per RMA step, goods receipt, credit
note and statement (`dedup_key_of`): an RMA request received (ReturnRequested with its `number`; an older
one without it causes none), approved (resolution, expected completion date), rejected (the reason), its
expected date moved (one email per change), goods received for it (partly or all), a credit note for
returned goods (CreditNoteIssued of reason `returned_goods`: a cancelled order's credit note is told by
"order cancelled"), a reconciliation statement issued (StatementIssued).

A cause keeps the trace context it was handled in: the email's SMTP span, the delivery's update
and its EmailSent / EmailFailed join the trace of the request that caused the email."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate

from notify.domain.deliveries import Audience, Cause
from portal_contracts import Envelope, Event, Money
from portal_contracts.events.billing import (
    BillingContact,
    CreditNoteIssued,
    InvoiceIssued,
    InvoiceIssuedV2,
    PaymentConfirmed,
    PaymentReceived,
    StatementIssued,
    UnitsBalanceLow,
    UnitsCapReached,
    UnitsCredited,
    UnitsPlanPaused,
    UnitsPurchased,
    UnitsPurchaseFailed,
    UnitsTopUpFailed,
)
from portal_contracts.events.orders import (
    InformationRequested,
    OrderCancelled,
    OrderMessagePosted,
    OrderPlaced,
    OrderPlacedV2,
    OrderShipped,
    QuoteExpiring,
    QuoteSent,
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
    SupportRecipient,
    SupportRequestAnswered,
    SupportRequestReceived,
)
from portal_contracts.events.returns import (
    GoodsReceived,
    ReturnApproved,
    ReturnExpectedDateChanged,
    ReturnRejected,
    ReturnRequested,
)
from portal_runtime import context

# Every payment gets its "payment received" email, the settling one included (it says "paid in
# full"), whatever the invoice is for; PaymentConfirmed, which billing publishes after the
# settling payment, causes none.
TEMPLATES: dict[type[Event], str] = {
    RequestSubmitted: "request_received",
    InformationRequested: "information_requested",
    RequestRejected: "request_rejected",
    InvoiceIssued: "invoice_issued",
    PaymentReceived: "payment_received",
    ServicesActivated: "services_active",
    OrderPlaced: "order_received",
    InvoiceIssuedV2: "order_invoice",
    ServiceActivated: "service_activated",
    ServiceRenewed: "service_renewed",
    ServiceOverdue: "service_overdue",
    ServiceSuspended: "service_suspended",
    ServiceReactivated: "service_reactivated",
    ServiceTerminated: "service_terminated",
    ServiceCancellationScheduled: "service_cancellation_scheduled",
    ServiceCancelled: "service_cancelled",
    UnitsCredited: "units_credited",
    UnitsPurchased: "units_purchased",
    UnitsPurchaseFailed: "units_purchase_failed",
    UnitsBalanceLow: "units_balance_low",
    UnitsTopUpFailed: "units_top_up_failed",
    UnitsPlanPaused: "units_plan_paused",
    UnitsCapReached: "units_cap_reached",
    # The B2B portal (issue 14): an order placed from a cart, a quote, a reorder or a channel (v2), a
    # quote sent or about to expire (the account's); a support request received or answered (its sender's).
    OrderPlacedV2: "order_received",
    QuoteSent: "quote_sent",
    QuoteExpiring: "quote_expiring",
    SupportRequestReceived: "support_request_received",
    SupportRequestAnswered: "support_request_answered",
    # The order manager (issue 15): a shipment (partial or the last), a cancellation, a message in the thread.
    OrderShipped: "order_shipped",
    OrderCancelled: "order_cancelled",
    OrderMessagePosted: "order_message",
    # Returns and the account's money (issue 16): an RMA's steps, its goods receipts, a credit note for
    # returned goods, a reconciliation statement.
    ReturnRequested: "rma_received",
    ReturnApproved: "rma_approved",
    ReturnRejected: "rma_rejected",
    ReturnExpectedDateChanged: "rma_expected_date_changed",
    GoodsReceived: "goods_received",
    CreditNoteIssued: "credit_note_issued",
    StatementIssued: "statement_issued",
}
# A shipment that leaves something still to ship (OrderShipped's shipping_status `partially_shipped`).
PARTIALLY_SHIPPED = "order_partially_shipped"
# The invitation of a user (UserInvited, its own handler: it also keeps notify's copy of the user).
ACCESS_GRANTED = "portal_access_granted"
# The invoices the client area's invoice email is for (InvoiceIssued v2's source_kind); the
# seller flow's has its email from v1, a unit purchase's is its receipt (UnitsPurchased).
CLIENT_AREA_INVOICES = ("order", "renewal")
# The credit notes that have an email of their own (CreditNoteIssued's reason): returned goods'.
EMAILED_CREDIT_NOTES = ("returned_goods",)


def template_for(event: Event) -> str | None:
    """The email the event causes; None when it causes none (another event's email says it)."""
    match event:
        case InvoiceIssued(request_id=None):  # not the seller flow's: its v2 says what it is
            return None
        case InvoiceIssuedV2() if event.source_kind not in CLIENT_AREA_INVOICES:  # v1's email, or none
            return None
        case OrderPlaced(source="renewal") | OrderPlacedV2(source="renewal"):  # its invoice is its email
            return None
        case PaymentReceived(source_kind="unit_top_up"):  # the purchase's receipt says it was paid
            return None
        case OrderShipped(shipping_status="partially_shipped"):
            return PARTIALLY_SHIPPED
        case OrderCancelled(number=None):  # cancelled before the order manager: nothing to name it by
            return None
        case ReturnRequested(number=None):  # requested before RMAs were numbered: nothing to name it by
            return None
        case CreditNoteIssued() if event.reason not in EMAILED_CREDIT_NOTES:  # a cancelled order's: its email
            return None
    return TEMPLATES[type(event)]


def dedup_key_of(event: Event) -> str | None:
    """What the email tells, when more than one event may tell it: an order is one "order received",
    whether OrderPlaced v1 or v2 (or both) say it. None: the event's own id is enough."""
    match event:
        case OrderPlaced() | OrderPlacedV2():
            return f"order:{event.order_id}"
        case OrderShipped():
            return f"shipment:{event.shipment_id}"
        case OrderCancelled():
            return f"order-cancelled:{event.order_id}"
        case OrderMessagePosted():
            return f"order-message:{event.message_id}"
        case ReturnRequested():
            return f"rma-requested:{event.rma_id}"
        case ReturnApproved():
            return f"rma-approved:{event.rma_id}"
        case ReturnRejected():
            return f"rma-rejected:{event.rma_id}"
        case ReturnExpectedDateChanged():  # each change is its own email
            return f"rma-expected-date:{event.rma_id}:{event.changed_at.isoformat()}"
        case GoodsReceived():
            return f"goods-receipt:{event.receipt_id}"
        case CreditNoteIssued():
            return f"credit-note:{event.credit_note_id}"
        case StatementIssued():
            return f"statement:{event.statement_id}"
    return None


def business_addressed(event: Event) -> bool:
    """Does the event's email go to the business (its own address, BUSINESS_EMAIL) instead of the
    account? A customer's message in an order's thread does."""
    return isinstance(event, OrderMessagePosted) and event.side == "customer"


def user_addressee_of(event: Event) -> SupportRecipient | None:
    """The user the event's email goes to instead of the account (a support request's sender), if any."""
    match event:
        case SupportRequestReceived() | SupportRequestAnswered():
            return event.sender
    return None


def billing_contact_of(event: Event) -> BillingContact | None:
    """The plan's billing contact the event's email goes to as well, if any: the automatic plan's
    notices (a manual purchase's receipt is the account's alone)."""
    match event:
        case UnitsPurchased(source="plan") | UnitsTopUpFailed() | UnitsPlanPaused() | UnitsCapReached():
            return event.billing_contact
    return None


def context_of(event: Event, audience: Audience = Audience.ACCOUNT) -> dict[str, Any]:
    """The event's fields, typed (Money, dates, nested lines), as the template's variables; the
    billing contact's email greets the contact (`addressee`)."""
    if isinstance(event, PaymentConfirmed):
        return _settled_payment(event)
    if audience == Audience.BILLING_CONTACT:
        contact = billing_contact_of(event)
        if contact is None:
            raise ValueError(f"{event.event_type} names no billing contact")
        return {**dict(event), "addressee": contact.name}
    addressee = user_addressee_of(event)
    if addressee is not None:
        # the request's subject under its own name: `subject` is the email's (the renderer's)
        return {**dict(event), "person": addressee.name, "request_subject": event.subject}
    if isinstance(event, CreditNoteIssued):
        return _credit_note(event)
    if isinstance(event, StatementIssued):  # a balance in the customer's favour is said as its size
        closing = event.closing_balance
        return {**dict(event), "in_favour": Money(amount=-closing.amount, currency=closing.currency)}
    return dict(event)


def _credit_note(event: CreditNoteIssued) -> dict[str, Any]:
    """A credit note as its email says it: the total with tax (`gross`, net `total` + `tax_total`) and,
    for each line, its amount with tax."""
    currency = event.total.currency
    lines = [
        {"line": line, "gross": Money(amount=line.line_total.amount + line.tax.amount, currency=currency)}
        for line in event.lines
    ]
    gross = Money(amount=event.total.amount + event.tax_total.amount, currency=currency)
    return {**dict(event), "gross": gross, "credited_lines": lines}


def _settled_payment(event: PaymentConfirmed) -> dict[str, Any]:
    """A "payment received" delivery recorded from PaymentConfirmed (before notify took
    PaymentReceived) may still wait for its recipient and be rendered now: it said the invoice
    was paid in full, with the amount paid and no method."""
    currency = event.amount_paid.currency
    return {
        **dict(event),
        "amount": event.amount_paid,
        "method": None,
        "balance_due": Money(amount=0, currency=currency),
        "invoice_status": "paid",
    }


def event_of(event_type: str, version: int, payload: dict) -> Event:
    """A stored cause back as its typed event (to render a delivery that waited for its recipient)."""
    from portal_contracts.registry import lookup

    return lookup(event_type, version).model_validate(payload)


def cause_of(envelope: Envelope) -> Cause:
    """The cause of the email an incoming event asks for, as it came off the topic, with the trace
    context it is handled in (the consumer's span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return Cause(
        envelope.event_id, envelope.correlation_id, envelope.type, envelope.version, envelope.data, carrier or None
    )


def trace_of(cause: Cause) -> otel_context.Context:
    """The trace the email of `cause` belongs to (an empty context when it came without one)."""
    return propagate.extract(cause.trace or {})


@contextlib.contextmanager
def caused_by(cause: Cause) -> Iterator[None]:
    """The context a delivery's own events (EmailSent, EmailFailed) are staged in: the sender
    works outside any request or consumed event, so it names the delivery's cause itself: the
    same conversation, caused by the event that asked for the email, and the same trace."""
    token = otel_context.attach(trace_of(cause))
    try:
        with context.caused_by(cause.correlation_id, cause.event_id):
            yield
    finally:
        otel_context.detach(token)
