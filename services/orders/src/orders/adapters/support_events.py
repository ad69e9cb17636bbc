"""Support requests' domain events → the contract events on `orders.support` (called from `to_contract`)."""

from __future__ import annotations

from orders.domain import support as domain
from portal_contracts import Event
from portal_contracts.events import orders as contract

SUPPORT_EVENTS = (domain.SupportRequestReceived, domain.SupportRequestAnswered, domain.SupportRequestClosed)


def _sender(sender: domain.Sender) -> contract.SupportRecipient:
    return contract.SupportRecipient(login=sender.login, name=sender.name, email=sender.email, language=sender.language)


def support_contract(event: domain.SupportEvent) -> Event:
    ids = {"request_id": event.request_id, "number": event.number, "account_id": event.account_id}
    match event:
        case domain.SupportRequestReceived():
            return contract.SupportRequestReceived(
                **ids,
                sender=_sender(event.sender),
                subject=event.subject,
                message=event.message,
                order_id=event.order_id,
                received_at=event.at,
            )
        case domain.SupportRequestAnswered():
            return contract.SupportRequestAnswered(
                **ids,
                sender=_sender(event.sender),
                subject=event.subject,
                answer=event.answer,
                answered_by=event.by,
                answered_at=event.at,
            )
        case domain.SupportRequestClosed():
            return contract.SupportRequestClosed(**ids, closed_by=event.by, closed_at=event.at)
    raise TypeError(f"no support contract for {type(event).__name__}")
