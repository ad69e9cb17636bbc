"""Events orders publishes about accounts' profiles, service requests, client-area orders and services."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from portal_contracts.base import DecimalString, Event, Money, event
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
    number: str | None = Field(default=None, description="the order's number (set from the order manager on)")
    note: str | None = Field(
        default=None, description="an admin's cancellation: the reason given, as the customer reads it"
    )
    settlement: Literal["refund", "credit"] | None = Field(
        default=None,
        description="an order on which money was paid: how billing gives it back (a credit note, then a refund to "
        "the payer or a credit on the account)",
    )
    cancelled_by: str | None = None


class OrderLineV2(BaseModel):
    """One line of an order of OrderPlaced v2: a service line as in v1 (`new`, `renewal`, `add_on`, with
    its `subscription_id` and period), or a line of goods (`good`: a quantity of an item, no service, no
    period). `amount` is the line's net total (quantity × unit price, prorated for add-ons); `tax_rate` the
    catalog item's tax rate when the order was placed (billing adds the tax on the invoice)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    line_id: uuid.UUID
    kind: Literal["new", "renewal", "add_on", "good"]
    item_id: uuid.UUID
    sku: str | None = None
    name: str
    cycle: Cycle
    quantity: int = Field(ge=1)
    unit_price: Money
    amount: Money
    subscription_id: uuid.UUID | None = Field(default=None, description="service lines only")
    parent_subscription_id: uuid.UUID | None = None
    domain: str | None = None
    period_start: date | None = Field(default=None, description="service lines only")
    period_end: date | None = None
    tax_rate: DecimalString | None = Field(
        default=None, description="the item's tax rate when placed, a fraction (0.19); none: not taxed"
    )


@event(topic="orders.orders", version=2, key="order_id")
class OrderPlacedV2(Event):
    """An order was placed: from a cart (`cart`, services or goods), by the renewal job (`renewal`), by
    accepting a quote (`quote`, `quote_id`), from an earlier order's lines put in a cart (`reorder`,
    `reordered_from`), or received from another sales channel (`channel`, with `channel` and
    `channel_order_id`). Billing invoices it. Orders publishes v2 from this version on; readers read v1
    too (orders placed before)."""

    order_id: uuid.UUID
    number: str
    account_id: str
    source: Literal["cart", "renewal", "quote", "reorder", "channel"]
    due_on: date | None = None
    currency: str
    lines: list[OrderLineV2]
    total: Money
    placed_at: AwareDatetime
    placed_by: str | None = Field(default=None, description="account/user who placed it, or the channel")
    quote_id: uuid.UUID | None = None
    reordered_from: uuid.UUID | None = None
    channel: str | None = None
    channel_order_id: str | None = None
    customer_reference: str | None = Field(default=None, description="the customer's own reference (its PO number)")
    payment_terms_days: int | None = Field(
        default=None,
        ge=1,
        description="the account's payment terms when it was placed (30: 30 days net): billing makes the invoice due "
        "that many days after the order's date; absent: due at once",
    )


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


# ---------------------------------------------------------------- orders.users: a customer account's users


@event(topic="orders.users", version=1, key="user_id")
class UserInvited(Event):
    """An admin created a user of a customer account (or sent it a new link). Where no identity provider
    is configured, `set_password_token` is the one-time secret of the link that sets the user's password
    (until `expires_at`); notify puts it in the email and nowhere else (never in a log). With an identity
    provider there is no token: the provider invites the user."""

    user_id: uuid.UUID
    account_id: str
    login: str = Field(description="the user name it logs in with; the `sub` of its tokens")
    name: str
    email: str
    language: Language
    account_role: str = Field(description="its role within the account, e.g. buyer or manager")
    set_password_token: str | None = None
    expires_at: AwareDatetime | None = None
    invited_by: str
    invited_at: AwareDatetime


@event(topic="orders.users", version=1, key="user_id")
class UserActivated(Event):
    """The user set its first password through the emailed link: its email address is proven."""

    user_id: uuid.UUID
    account_id: str
    login: str
    email: str
    language: Language
    activated_at: AwareDatetime


@event(topic="orders.users", version=1, key="user_id")
class UserContactChanged(Event):
    """A user's own contact details changed (by itself or an admin): where and in which language it hears
    from us."""

    user_id: uuid.UUID
    account_id: str
    login: str
    name: str
    email: str
    language: Language
    changed_at: AwareDatetime


@event(topic="orders.users", version=1, key="user_id")
class UserAccessChanged(Event):
    """Which of a user's tokens every service still takes: none while `active` is false (disabled), and
    none issued before `tokens_valid_from` (its password changed). Every service keeps a copy and checks
    the tokens of the portal's own issuer against it."""

    user_id: uuid.UUID
    account_id: str
    login: str
    active: bool
    tokens_valid_from: AwareDatetime
    reason: Literal["disabled", "enabled", "password_set", "password_changed"]
    changed_by: str
    changed_at: AwareDatetime


# ---------------------------------------------------------------- orders.support: support requests


class SupportRecipient(BaseModel):
    """The user who sent a support request: where and in which language it hears about it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    login: str
    name: str
    email: str
    language: Language


@event(topic="orders.support", version=1, key="request_id")
class SupportRequestReceived(Event):
    """A customer user sent a support request; `number` is what it quotes."""

    request_id: uuid.UUID
    number: str
    account_id: str
    sender: SupportRecipient
    subject: str
    message: str
    order_id: uuid.UUID | None = None
    received_at: AwareDatetime


@event(topic="orders.support", version=1, key="request_id")
class SupportRequestAnswered(Event):
    """An admin answered a support request (each answer is one event)."""

    request_id: uuid.UUID
    number: str
    account_id: str
    sender: SupportRecipient
    subject: str
    answer: str
    answered_by: str
    answered_at: AwareDatetime


@event(topic="orders.support", version=1, key="request_id")
class SupportRequestClosed(Event):
    request_id: uuid.UUID
    number: str
    account_id: str
    closed_by: str
    closed_at: AwareDatetime


# ---------------------------------------------------------------- orders.quotes: quotes the business sends


class QuoteLine(BaseModel):
    """A line of a quote at the price the business offers (it may differ from the catalog's)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    line_id: uuid.UUID
    item_id: uuid.UUID
    sku: str | None = None
    name: str
    cycle: Cycle
    quantity: int = Field(ge=1)
    unit_price: Money
    amount: Money


@event(topic="orders.quotes", version=1, key="quote_id")
class QuoteSent(Event):
    """An admin sent a quote to an account: it may be accepted until `valid_until` (inclusive)."""

    quote_id: uuid.UUID
    number: str
    account_id: str
    currency: str
    lines: list[QuoteLine]
    total: Money
    valid_until: date
    note: str = ""
    sent_by: str
    sent_at: AwareDatetime


@event(topic="orders.quotes", version=1, key="quote_id")
class QuoteAccepted(Event):
    """The customer accepted the quote; `order_id` is the one order placed at the quote's prices."""

    quote_id: uuid.UUID
    number: str
    account_id: str
    order_id: uuid.UUID
    accepted_by: str
    accepted_at: AwareDatetime


@event(topic="orders.quotes", version=1, key="quote_id")
class QuoteRejected(Event):
    quote_id: uuid.UUID
    number: str
    account_id: str
    reason: str = ""
    rejected_by: str
    rejected_at: AwareDatetime


@event(topic="orders.quotes", version=1, key="quote_id")
class QuoteExpiring(Event):
    """A sent quote not yet answered expires soon (the quotes job tells once per quote)."""

    quote_id: uuid.UUID
    number: str
    account_id: str
    currency: str
    total: Money
    valid_until: date
    noticed_at: AwareDatetime


@event(topic="orders.quotes", version=1, key="quote_id")
class QuoteExpired(Event):
    """A sent quote passed its `valid_until` unanswered: it can no longer be accepted."""

    quote_id: uuid.UUID
    number: str
    account_id: str
    valid_until: date
    expired_at: AwareDatetime


# ---------------------------------------------------------------- orders.orders: the order manager


class ShippedLine(BaseModel):
    """A line of an order in a shipment: `quantity` in this shipment; `shipped` all shipments of the
    line together (this one included), `awaiting` what is still to ship (ordered less shipped and less
    what pending shipments hold)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    line_id: uuid.UUID
    item_id: uuid.UUID
    sku: str | None = None
    name: str
    quantity: int = Field(ge=1)
    ordered: int = Field(ge=1)
    shipped: int = Field(ge=1)
    awaiting: int = Field(ge=0)


@event(topic="orders.orders", version=1, key="order_id")
class OrderShipped(Event):
    """A shipment of an order left with its carrier (recorded with a tracking number, or a pending
    shipment given one). `shipping_status`: `shipped` when nothing is left to ship, else
    `partially_shipped`. `tracking_url` is the carrier's page for the number, where known."""

    order_id: uuid.UUID
    number: str
    account_id: str
    shipment_id: uuid.UUID
    shipment_number: str = Field(description="the order's number and the shipment's sequence: SO-000012-2")
    carrier: str
    tracking_number: str
    tracking_url: str | None = None
    lines: list[ShippedLine]
    shipping_status: Literal["partially_shipped", "shipped"]
    shipped_by: str
    shipped_at: AwareDatetime


@event(topic="orders.orders", version=1, key="order_id")
class ShipmentTrackingCorrected(Event):
    """An admin corrected the carrier or tracking number of a shipment that had shipped (what shipped
    never changes)."""

    order_id: uuid.UUID
    number: str
    account_id: str
    shipment_id: uuid.UUID
    shipment_number: str
    carrier: str
    tracking_number: str
    tracking_url: str | None = None
    corrected_by: str
    corrected_at: AwareDatetime


# ---------------------------------------------------------------- orders.messages: order threads


@event(topic="orders.messages", version=1, key="order_id")
class OrderMessagePosted(Event):
    """A message in an order's thread between the business and the customer: `side` says who wrote it
    (`business`: an admin; `customer`: a user of the order's account); the other side is emailed."""

    message_id: uuid.UUID
    order_id: uuid.UUID
    number: str
    account_id: str
    side: Literal["business", "customer"]
    author: str = Field(description="account/user (customer) or the admin's login")
    author_name: str | None = None
    body: str
    posted_at: AwareDatetime
