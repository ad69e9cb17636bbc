"""Contract events ↔ the domain, in one place: catalog's events into offers, and orders' domain
events into the contract events it publishes (`to_contract`, the service's one mapping)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields

from orders.adapters.message_events import MESSAGE_EVENTS, message_contract
from orders.adapters.quote_events import QUOTE_EVENTS, quote_contract
from orders.adapters.shipment_events import SHIPMENT_EVENTS, shipment_contract
from orders.adapters.support_events import SUPPORT_EVENTS, support_contract
from orders.adapters.users_events import user_contract
from orders.domain import events as domain
from orders.domain import users
from orders.domain.lines import OrderLine
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
        max_per_parent=e.max_per_parent,
        featured=dict(e.featured) if e.featured else None,
        tax_rate=e.tax_rate,
    )


def offer_from_retired(e: CatalogItemRetired) -> Offer:
    return Offer(item_id=e.item_id, revision=e.revision, status=Status.RETIRED)


# -- out -----------------------------------------------------------------------------------
def to_contract(event: object) -> Event | None:
    """The contract event a domain event publishes; None for those nobody else needs (a draft
    discarded, a subscription's own moves: told by ServicesActivated or the Service* events; an
    order paid: told by the Service* events of its fulfilment)."""
    match event:
        case users.UserInvited() | users.UserActivated() | users.UserContactChanged() | users.UserAccessChanged():
            return user_contract(event)
        case _ if isinstance(event, QUOTE_EVENTS):
            return quote_contract(event)
        case _ if isinstance(event, SUPPORT_EVENTS):
            return support_contract(event)
        case _ if isinstance(event, SHIPMENT_EVENTS):
            return shipment_contract(event)
        case _ if isinstance(event, MESSAGE_EVENTS):
            return message_contract(event)
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
        case domain.OrderPlaced():
            return contract.OrderPlacedV2(
                order_id=event.order_id,
                number=event.number,
                account_id=event.account_id,
                source=event.source,
                due_on=event.due_on,
                currency=event.currency,
                lines=[_order_line(line) for line in event.lines],
                total=Money(amount=event.total, currency=event.currency),
                placed_at=event.at,
                placed_by=event.placed_by,
                quote_id=event.quote_id,
                reordered_from=event.reordered_from,
                channel=event.channel,
                channel_order_id=event.channel_order_id,
                customer_reference=event.customer_reference,
                payment_terms_days=event.payment_terms_days,
            )
        case domain.OrderCancelled():
            return contract.OrderCancelled(
                order_id=event.order_id,
                account_id=event.account_id,
                reason=event.reason,
                cancelled_at=event.at,
                number=event.number,
                note=event.note,
                settlement=event.settlement,
                cancelled_by=event.by,
            )
        case domain.ServiceEvent():
            return _service_event(event)
        case (
            domain.RequestDiscarded() | domain.SubscriptionActivated() | domain.SubscriptionMoved() | domain.OrderPaid()
        ):
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


def _order_line(line: OrderLine) -> contract.OrderLineV2:
    return contract.OrderLineV2(
        line_id=line.line_id,
        kind=line.kind,
        item_id=line.item_id,
        sku=line.sku,
        name=line.name,
        cycle=line.cycle,
        quantity=line.quantity,
        unit_price=Money(amount=line.unit_price, currency=line.currency),
        amount=Money(amount=line.amount, currency=line.currency),
        subscription_id=line.subscription_id,
        parent_subscription_id=line.parent_subscription_id,
        domain=line.domain,
        tax_rate=line.tax_rate,
        period_start=line.period_start,
        period_end=line.period_end,
    )


_SERVICE_COMMON = {f.name for f in fields(domain.ServiceEvent)}


def _service_event(event: domain.ServiceEvent) -> contract.ServiceEvent:
    """The contract event of the same name: the common fields, then the move's own (period,
    due dates, reason), which the domain event and the contract name alike."""
    own = {f.name: getattr(event, f.name) for f in fields(event) if f.name not in _SERVICE_COMMON}
    return getattr(contract, type(event).__name__)(
        subscription_id=event.subscription_id,
        account_id=event.account_id,
        name=event.name,
        domain=event.domain,
        cycle=event.cycle,
        price=Money(amount=event.price, currency=event.currency),
        next_due_on=event.next_due_on,
        add_ons=[contract.AddOnRef(subscription_id=a.subscription_id, name=a.name) for a in event.add_ons],
        at=event.at,
        **own,
    )
