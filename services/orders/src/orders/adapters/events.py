"""Contract events ↔ the domain, in one place: catalog's events into offers, and orders'
domain changes into the events it publishes."""

from __future__ import annotations

from collections.abc import Sequence

from orders.domain.offers import OFFERED, RETIRED, Offer
from orders.domain.profiles import Profile
from orders.domain.requests import (
    ACTIVE,
    APPROVED,
    DRAFT,
    INFORMATION_REQUESTED,
    REJECTED,
    SUBMITTED,
    ServiceRequest,
    Transition,
)
from orders.domain.subscriptions import Subscription
from portal_contracts import Event, Money
from portal_contracts.events.catalog import CatalogItemPublished, CatalogItemRetired
from portal_contracts.events.orders import (
    AccountProfileChanged,
    ActivatedService,
    InformationProvided,
    InformationRequested,
    RequestApproved,
    RequestLine,
    RequestRejected,
    RequestSubmitted,
    ServicesActivated,
)


# -- in ------------------------------------------------------------------------------------
def offer_from_published(e: CatalogItemPublished) -> Offer:
    return Offer(
        item_id=e.item_id,
        revision=e.revision,
        status=OFFERED,
        sku=e.sku,
        name=e.name,
        description=e.description,
        price=e.price.amount,
        currency=e.price.currency,
        billing=e.billing,
        billing_period_months=e.billing_period_months,
    )


def offer_from_retired(e: CatalogItemRetired) -> Offer:
    return Offer(item_id=e.item_id, revision=e.revision, status=RETIRED)


# -- out -----------------------------------------------------------------------------------
def profile_changed(profile: Profile) -> AccountProfileChanged:
    return AccountProfileChanged(
        account_id=profile.account_id, email=profile.email, language=profile.language, changed_at=profile.updated_at
    )


def request_lines(request: ServiceRequest) -> tuple[list[RequestLine], Money]:
    summary = request.summary({})
    lines = [
        RequestLine(
            item_id=p.item_id,
            name=p.name or "",
            quantity=p.quantity,
            unit_price=Money(amount=p.unit_price, currency=p.currency),
            line_total=Money(amount=p.line_total, currency=p.currency),
            billing=p.billing,
            billing_period_months=p.billing_period_months,
        )
        for p in summary.lines
    ]
    return lines, Money(amount=summary.total, currency=summary.currency)


def to_contract(request: ServiceRequest, step: Transition, subscriptions: Sequence[Subscription] = ()) -> Event | None:
    """The event a transition publishes; None for those nobody else needs (a draft discarded)."""
    ids = {"request_id": request.id, "account_id": request.account_id}
    if step.to_status == SUBMITTED and step.from_status == DRAFT:
        lines, total = request_lines(request)
        return RequestSubmitted(**ids, lines=lines, total=total, submitted_at=step.at)
    if step.to_status == SUBMITTED and step.from_status == INFORMATION_REQUESTED:
        return InformationProvided(**ids, answer=step.note or "", answered_at=step.at)
    if step.to_status == INFORMATION_REQUESTED:
        return InformationRequested(**ids, question=step.note or "", asked_by=step.by, asked_at=step.at)
    if step.to_status == APPROVED:
        lines, total = request_lines(request)
        return RequestApproved(**ids, lines=lines, total=total, approved_by=step.by, approved_at=step.at)
    if step.to_status == REJECTED:
        return RequestRejected(**ids, reason=step.note or "", rejected_by=step.by, rejected_at=step.at)
    if step.to_status == ACTIVE:
        services = [
            ActivatedService(
                subscription_id=s.id,
                item_id=s.item_id,
                name=s.name,
                quantity=s.quantity,
                activated_on=s.activated_on,
                next_due_on=s.next_due_on,
            )
            for s in subscriptions
        ]
        return ServicesActivated(**ids, services=services, activated_at=step.at)
    return None
