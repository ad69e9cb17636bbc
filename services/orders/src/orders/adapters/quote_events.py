"""Quotes' domain events → the contract events on `orders.quotes` (called from `to_contract`)."""

from __future__ import annotations

from decimal import Decimal

from orders.domain import quotes as domain
from portal_contracts import Event, Money
from portal_contracts.events import orders as contract

QUOTE_EVENTS = (
    domain.QuoteSent,
    domain.QuoteAccepted,
    domain.QuoteRejected,
    domain.QuoteExpiring,
    domain.QuoteExpired,
)


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def quote_contract(event: domain.QuoteEvent) -> Event:
    ids = {"quote_id": event.quote_id, "number": event.number, "account_id": event.account_id}
    match event:
        case domain.QuoteSent():
            return contract.QuoteSent(
                **ids,
                currency=event.currency,
                lines=[
                    contract.QuoteLine(
                        line_id=line.line_id,
                        item_id=line.item_id,
                        sku=line.sku,
                        name=line.name,
                        cycle=line.cycle,
                        quantity=line.quantity,
                        unit_price=_money(line.unit_price, line.currency),
                        amount=_money(line.amount, line.currency),
                    )
                    for line in event.lines
                ],
                total=_money(event.total, event.currency),
                valid_until=event.valid_until,
                note=event.note,
                sent_by=event.by,
                sent_at=event.at,
            )
        case domain.QuoteAccepted():
            return contract.QuoteAccepted(**ids, order_id=event.order_id, accepted_by=event.by, accepted_at=event.at)
        case domain.QuoteRejected():
            return contract.QuoteRejected(**ids, reason=event.reason, rejected_by=event.by, rejected_at=event.at)
        case domain.QuoteExpiring():
            return contract.QuoteExpiring(
                **ids,
                currency=event.currency,
                total=_money(event.total, event.currency),
                valid_until=event.valid_until,
                noticed_at=event.at,
            )
        case domain.QuoteExpired():
            return contract.QuoteExpired(**ids, valid_until=event.valid_until, expired_at=event.at)
    raise TypeError(f"no contract for {type(event).__name__}")
