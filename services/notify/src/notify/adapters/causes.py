"""Which contract event causes which email, and what the template sees of it."""

from __future__ import annotations

import contextlib
from typing import Any

from notify.domain.deliveries import Cause
from portal_contracts import Envelope, Event, Money
from portal_contracts.events.billing import InvoiceIssued, PaymentConfirmed, PaymentReceived
from portal_contracts.events.orders import (
    InformationRequested,
    RequestRejected,
    RequestSubmitted,
    ServicesActivated,
)
from portal_runtime import context

# Every payment gets its "payment received" email, the settling one included (it says "paid in
# full"); PaymentConfirmed, which billing publishes after the settling payment, causes none.
TEMPLATES: dict[type[Event], str] = {
    RequestSubmitted: "request_received",
    InformationRequested: "information_requested",
    RequestRejected: "request_rejected",
    InvoiceIssued: "invoice_issued",
    PaymentReceived: "payment_received",
    ServicesActivated: "services_active",
}


def template_for(event: Event) -> str:
    return TEMPLATES[type(event)]


def context_of(event: Event) -> dict[str, Any]:
    """The event's fields, typed (Money, dates, nested lines), as the template's variables."""
    if isinstance(event, PaymentConfirmed):
        return _settled_payment(event)
    return dict(event)


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
    """The cause of the email an incoming event asks for, as it came off the topic."""
    return Cause(envelope.event_id, envelope.correlation_id, envelope.type, envelope.version, envelope.data)


def caused_by(cause: Cause) -> contextlib.AbstractContextManager:
    """The context a delivery's own events (EmailSent, EmailFailed) are staged in: the sender
    works outside any request or consumed event, so it names the delivery's cause itself: the
    same conversation, caused by the event that asked for the email."""
    return context.caused_by(cause.correlation_id, cause.event_id)
