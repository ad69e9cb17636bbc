"""Order threads' domain events → the contract events on `orders.messages` (called from `to_contract`)."""

from __future__ import annotations

from orders.domain import messages as domain
from portal_contracts.events import orders as contract

MESSAGE_EVENTS = (domain.OrderMessagePosted,)


def message_contract(event: domain.OrderMessagePosted) -> contract.OrderMessagePosted:
    return contract.OrderMessagePosted(
        message_id=event.message_id,
        order_id=event.order_id,
        number=event.number,
        account_id=event.account_id,
        side=str(event.side),
        author=event.author,
        author_name=event.author_name,
        body=event.body,
        posted_at=event.at,
    )
