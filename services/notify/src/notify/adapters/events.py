"""Notify's domain events → published contract events: the service's one mapping. Only the end
of a delivery is published (EmailSent / EmailFailed on `notify.deliveries`); addressing, waiting
for a confirmation, a failed attempt that is tried again, an admin's retry and an address's
confirmation stay inside notify (ConfirmationRequested holds a token: it must never leave)."""

from __future__ import annotations

from dataclasses import asdict

from notify.domain import events as domain
from portal_contracts import Event
from portal_contracts.events.notify import EmailFailed, EmailSent


def to_contract(event: object) -> Event | None:
    # EmailSent and EmailFailed carry exactly the fields of their contracts (same names, same values).
    match event:
        case domain.EmailSent():
            return EmailSent(**asdict(event))
        case domain.EmailFailed():
            return EmailFailed(**{**asdict(event), "error": event.error or "unknown error"})
        case (
            domain.DeliveryAddressed()
            | domain.DeliveryAwaitsConfirmation()
            | domain.AttemptFailed()
            | domain.DeliveryRetried()
            | domain.ConfirmationRequested()
            | domain.AddressConfirmed()
        ):
            return None
    raise TypeError(f"notify has no contract for {type(event).__name__}")
