"""Events orders publishes about accounts' profiles, service requests, client-area orders and services."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from portal_contracts.base import Event, Money, event
from portal_contracts.events.catalog import Cycle

Language = Literal["en", "tr", "de", "pl"]


class RequestLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    item_id: uuid.UUID
    name: str
    quantity: int = Field(ge=1)
    unit_price: Money
    line_total: Money
    billing: Literal["one_time", "recurring"]
    billing_period_months: int | None = None


@event(topic="orders.accounts", version=1, key="account_id")
class AccountProfileChanged(Event):
    """Where and in which language an account wants to hear from us."""

    account_id: str
    email: str
    language: Language
    changed_at: AwareDatetime


@event(topic="orders.requests", version=1, key="request_id")
class RequestSubmitted(Event):
    request_id: uuid.UUID
    account_id: str
    lines: list[RequestLine]
    total: Money
    submitted_at: AwareDatetime


@event(topic="orders.requests", version=1, key="request_id")
class InformationRequested(Event):
    request_id: uuid.UUID
    account_id: str
    question: str
    asked_by: str
    asked_at: AwareDatetime


@event(topic="orders.requests", version=1, key="request_id")
class InformationProvided(Event):
    request_id: uuid.UUID
    account_id: str
    answer: str
    answered_at: AwareDatetime


@event(topic="orders.requests", version=1, key="request_id")
class RequestApproved(Event):
    request_id: uuid.UUID
    account_id: str
    lines: list[RequestLine]
    total: Money
    approved_by: str
    approved_at: AwareDatetime


@event(topic="orders.requests", version=1, key="request_id")
class RequestRejected(Event):
    request_id: uuid.UUID
    account_id: str
    reason: str
    rejected_by: str
    rejected_at: AwareDatetime


class ActivatedService(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    subscription_id: uuid.UUID
    item_id: uuid.UUID
    name: str
    quantity: int
    activated_on: date
    next_due_on: date | None = None


@event(topic="orders.requests", version=1, key="request_id")
class ServicesActivated(Event):
    request_id: uuid.UUID
    account_id: str
    services: list[ActivatedService]
    activated_at: AwareDatetime


# ---------------------------------------------------------------- client area: orders and services


class OrderLine(BaseModel):
    """One line of an order. `amount` is the line's total after proration; `subscription_id` is the
    service the line creates (new, add_on) or renews (renewal); `period_start`..`period_end` is the
    period paid for (end exclusive: the next due date)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    line_id: uuid.UUID
    kind: Literal["new", "renewal", "add_on"]
    item_id: uuid.UUID
    sku: str | None = None
    name: str
    cycle: Cycle
    quantity: int = Field(ge=1)
    unit_price: Money
    amount: Money
    subscription_id: uuid.UUID
    parent_subscription_id: uuid.UUID | None = None
    domain: str | None = None
    period_start: date
    period_end: date | None = None


@event(topic="orders.orders", version=1, key="order_id")
class OrderPlaced(Event):
    """A client checked out its cart (`source` cart), or the renewal job made the renewal order of
    one account and due date (`source` renewal, `due_on` that date). Billing invoices it."""

    order_id: uuid.UUID
    number: str
    account_id: str
    source: Literal["cart", "renewal"]
    due_on: date | None = None
    currency: str
    lines: list[OrderLine]
    total: Money
    placed_at: AwareDatetime


@event(topic="orders.orders", version=1, key="order_id")
class OrderCancelled(Event):
    """An unpaid order will not be fulfilled: left unpaid too long (`unpaid`), its services were
    terminated (`terminated`), or an admin cancelled it (`admin`). Billing voids its invoice."""

    order_id: uuid.UUID
    account_id: str
    reason: Literal["unpaid", "terminated", "admin"]
    cancelled_at: AwareDatetime


class AddOnRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    subscription_id: uuid.UUID
    name: str


class ServiceEvent(Event):
    """What every event of a client-area service carries: one event per parent service, naming the
    add-ons the same move concerned (`add_ons`)."""

    subscription_id: uuid.UUID
    account_id: str
    name: str
    domain: str | None = None
    cycle: Cycle
    price: Money
    next_due_on: date | None = None
    add_ons: list[AddOnRef] = Field(default_factory=list)
    at: AwareDatetime


@event(topic="orders.services", version=1, key="subscription_id")
class ServiceActivated(ServiceEvent):
    """A service bought through the cart was paid and is active (or an add-on attached to it)."""


@event(topic="orders.services", version=1, key="subscription_id")
class ServiceRenewed(ServiceEvent):
    """A renewal was paid in full: `period_start`..`period_end` is the period paid, `next_due_on`
    the new due date."""

    period_start: date
    period_end: date


@event(topic="orders.services", version=1, key="subscription_id")
class ServiceOverdue(ServiceEvent):
    """The renewal invoice is unpaid after the due date: the reminder, and when it will be suspended."""

    due_on: date
    suspends_on: date


@event(topic="orders.services", version=1, key="subscription_id")
class ServiceSuspended(ServiceEvent):
    """`reason` is `overdue` (unpaid renewal) or what an admin gave."""

    reason: str


@event(topic="orders.services", version=1, key="subscription_id")
class ServiceReactivated(ServiceEvent):
    """A service suspended for being overdue was paid for and is active again."""


@event(topic="orders.services", version=1, key="subscription_id")
class ServiceTerminated(ServiceEvent):
    """Unpaid too long: the service and its add-ons ended, their unpaid invoice voided."""

    reason: str = "overdue"


@event(topic="orders.services", version=1, key="subscription_id")
class ServiceCancellationScheduled(ServiceEvent):
    """The client cancelled at period end: no renewal invoice, the service ends on `ends_on`."""

    ends_on: date


@event(topic="orders.services", version=1, key="subscription_id")
class ServiceCancelled(ServiceEvent):
    """The service ended: at its period end as the client asked, or at once by an admin."""

    reason: Literal["period_end", "admin"]
