"""Contract events ↔ the domain, in one place: catalog's events into offers, and orders' domain
events into the contract events it publishes (`to_contract`, the service's one mapping)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from orders.domain import events as domain
from orders.domain.offers import Offer, Status, cycle_of
from orders.domain.pricing import PricedLine
from portal_contracts import Event, Money
from portal_contracts.events import orders as contract
from portal_contracts.events.catalog import CatalogItemPublished, CatalogItemRetired


# -- in ------------------------------------------------------------------------------------
def offer_from_published(e: CatalogItemPublished) -> Offer:
    """The copy of a published item; one published before cycles has its one price's cycle."""
    prices = tuple((p.cycle, p.price) for p in e.prices)
    if not prices and (cycle := cycle_of(e.billing, e.billing_period_months)):
        prices = ((cycle, e.price.amount),)
    return Offer(
        item_id=e.item_id,
        revision=e.revision,
        status=Status.OFFERED,
        sku=e.sku,
        name=e.name,
        description=e.description,
        price=e.price.amount,
        currency=e.price.currency,
        billing=e.billing,
        billing_period_months=e.billing_period_months,
        kind=e.kind,
        prices=prices,
        units=e.units,
        parents=tuple(e.parents),
    )


def offer_from_retired(e: CatalogItemRetired) -> Offer:
    return Offer(item_id=e.item_id, revision=e.revision, status=Status.RETIRED)


# -- out -----------------------------------------------------------------------------------
def to_contract(event: object) -> Event | None:
    """The contract event a domain event publishes; None for those nobody else needs (a draft
    discarded, a subscription's own moves: its activation is told by ServicesActivated)."""
    match event:
        case domain.AccountProfileChanged():
            return contract.AccountProfileChanged(
                account_id=event.account_id, email=event.email, language=event.language, changed_at=event.at
            )
        case domain.RequestSubmitted():
            return contract.RequestSubmitted(
                **_ids(event),
                lines=_lines(event.lines),
                total=Money(amount=event.total, currency=event.currency),
                submitted_at=event.at,
            )
        case domain.InformationRequested():
            return contract.InformationRequested(
                **_ids(event), question=event.question, asked_by=event.by, asked_at=event.at
            )
        case domain.InformationProvided():
            return contract.InformationProvided(**_ids(event), answer=event.answer, answered_at=event.at)
        case domain.RequestApproved():
            return contract.RequestApproved(
                **_ids(event),
                lines=_lines(event.lines),
                total=Money(amount=event.total, currency=event.currency),
                approved_by=event.by,
                approved_at=event.at,
            )
        case domain.RequestRejected():
            return contract.RequestRejected(
                **_ids(event), reason=event.reason, rejected_by=event.by, rejected_at=event.at
            )
        case domain.RequestActivated():
            services = [contract.ActivatedService(**asdict(s)) for s in event.services]  # the same fields
            return contract.ServicesActivated(**_ids(event), services=services, activated_at=event.at)
        case domain.RequestDiscarded() | domain.SubscriptionActivated() | domain.SubscriptionMoved():
            return None
        case domain.OrderPlaced() | domain.OrderPaid() | domain.OrderCancelled() | domain.ServiceEvent():
            # The client area's domain (issue 12): no use case raises these yet; their contracts
            # (OrderPlaced, OrderCancelled, the orders.services events) come with the wiring.
            return None
    raise TypeError(f"orders has no contract for {type(event).__name__}")


def _ids(event: object) -> dict:
    return {"request_id": event.request_id, "account_id": event.account_id}


def _lines(lines: Sequence[PricedLine]) -> list[contract.RequestLine]:
    return [
        contract.RequestLine(
            item_id=p.item_id,
            name=p.name or "",
            quantity=p.quantity,
            unit_price=Money(amount=p.unit_price, currency=p.currency),
            line_total=Money(amount=p.line_total, currency=p.currency),
            billing=p.billing,
            billing_period_months=p.billing_period_months,
        )
        for p in lines
    ]
