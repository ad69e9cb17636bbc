"""Which contract event causes which email, and what the template sees of it."""

from __future__ import annotations

from typing import Any

from portal_contracts import Event, Money
from portal_contracts.events.billing import InvoiceIssued, PaymentConfirmed, PaymentReceived
from portal_contracts.events.orders import (
    InformationRequested,
    RequestRejected,
    RequestSubmitted,
    ServicesActivated,
)

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
