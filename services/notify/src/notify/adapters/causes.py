"""Which contract event causes which email, and what the template sees of it."""

from __future__ import annotations

from typing import Any

from portal_contracts import Event
from portal_contracts.events.billing import InvoiceIssued, PaymentConfirmed
from portal_contracts.events.orders import (
    InformationRequested,
    RequestRejected,
    RequestSubmitted,
    ServicesActivated,
)

TEMPLATES: dict[type[Event], str] = {
    RequestSubmitted: "request_received",
    InformationRequested: "information_requested",
    RequestRejected: "request_rejected",
    InvoiceIssued: "invoice_issued",
    PaymentConfirmed: "payment_received",
    ServicesActivated: "services_active",
}


def template_for(event: Event) -> str:
    return TEMPLATES[type(event)]


def context_of(event: Event) -> dict[str, Any]:
    """The event's fields, typed (Money, dates, nested lines), as the template's variables."""
    return dict(event)


def event_of(event_type: str, version: int, payload: dict) -> Event:
    """A stored cause back as its typed event (to render a delivery that waited for its recipient)."""
    from portal_contracts.registry import lookup

    return lookup(event_type, version).model_validate(payload)
