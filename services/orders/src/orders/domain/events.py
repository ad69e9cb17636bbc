"""What happens to orders' aggregates, as the domain says it: typed facts raised by the move that
made them (mapped to contract events, or to none, in `orders.adapters.events`). Standard library
and orders' own domain values only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from orders.domain.lines import AddOnRef, OrderLine
from orders.domain.pricing import PricedLine


# -- account profiles ----------------------------------------------------------------------
@dataclass(frozen=True)
class AccountProfileChanged:
    account_id: str
    email: str
    language: str
    at: datetime


# -- service requests ----------------------------------------------------------------------
@dataclass(frozen=True)
class RequestSubmitted:
    """A draft went to review, its lines priced and frozen."""

    request_id: uuid.UUID
    account_id: str
    lines: tuple[PricedLine, ...]
    total: Decimal
    currency: str
    at: datetime


@dataclass(frozen=True)
class RequestDiscarded:
    request_id: uuid.UUID
    account_id: str
    by: str
    at: datetime


@dataclass(frozen=True)
class InformationRequested:
    request_id: uuid.UUID
    account_id: str
    question: str
    by: str
    at: datetime


@dataclass(frozen=True)
class InformationProvided:
    request_id: uuid.UUID
    account_id: str
    answer: str
    by: str
    at: datetime


@dataclass(frozen=True)
class RequestApproved:
    request_id: uuid.UUID
    account_id: str
    lines: tuple[PricedLine, ...]
    total: Decimal
    currency: str
    by: str
    at: datetime


@dataclass(frozen=True)
class RequestRejected:
    request_id: uuid.UUID
    account_id: str
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ActivatedService:
    """One subscription a paid request opened, as it stood when activated."""

    subscription_id: uuid.UUID
    item_id: uuid.UUID
    name: str
    quantity: int
    activated_on: date
    next_due_on: date | None


@dataclass(frozen=True)
class RequestActivated:
    """An approved request was paid: its lines are now the account's subscriptions."""

    request_id: uuid.UUID
    account_id: str
    services: tuple[ActivatedService, ...]
    by: str
    at: datetime


# -- subscriptions -------------------------------------------------------------------------
@dataclass(frozen=True)
class SubscriptionActivated:
    subscription_id: uuid.UUID
    account_id: str
    request_id: uuid.UUID | None  # None for a service bought through the cart (an order)
    anchor_on: date
    next_due_on: date | None
    by: str
    at: datetime


@dataclass(frozen=True)
class SubscriptionMoved:
    """A later move of a subscription; the subclass says which (the same fields, so no decorator)."""

    subscription_id: uuid.UUID
    account_id: str
    by: str
    at: datetime
    note: str | None = None


class SubscriptionSuspended(SubscriptionMoved):
    """Paused: not delivered and not billed until reactivated."""


class SubscriptionReactivated(SubscriptionMoved):
    """Delivered again, on the billing cycle it had."""


class SubscriptionCancelled(SubscriptionMoved):
    """Ended at the account's wish."""


class SubscriptionTerminated(SubscriptionMoved):
    """Ended by us."""


class SubscriptionCompleted(SubscriptionMoved):
    """A one-time service delivered."""


class SubscriptionRenewed(SubscriptionMoved):
    """One more period paid (`note` names the new due date); the status is unchanged."""


class SubscriptionCancellationScheduled(SubscriptionMoved):
    """The client cancelled at the end of the period; the status is unchanged until then."""


# -- orders (client area) ------------------------------------------------------------------
@dataclass(frozen=True)
class OrderPlaced:
    """An order placed: a cart checked out, the renewal job's order for an account and due date, an
    accepted quote, a reorder, or a channel's order."""

    order_id: uuid.UUID
    number: str
    account_id: str
    source: str  # "cart" | "renewal" | "quote" | "reorder" | "channel"
    due_on: date | None  # renewal orders: the services' due date; others: None
    currency: str
    lines: tuple[OrderLine, ...]
    total: Decimal
    at: datetime
    placed_by: str | None = None
    quote_id: uuid.UUID | None = None
    reordered_from: uuid.UUID | None = None
    channel: str | None = None
    channel_order_id: str | None = None
    customer_reference: str | None = None
    payment_terms_days: int | None = None  # the account's payment terms when placed


@dataclass(frozen=True)
class OrderPaid:
    order_id: uuid.UUID
    account_id: str
    by: str
    at: datetime


@dataclass(frozen=True)
class OrderCancelled:
    order_id: uuid.UUID
    account_id: str
    reason: str  # "unpaid" | "terminated" | "admin"
    by: str
    at: datetime
    number: str | None = None
    note: str | None = None  # an admin's reason text
    settlement: str | None = None  # "refund" | "credit": an order on which money was paid


# -- services (client area): one event per PARENT service, naming its add-ons ----------------
@dataclass(frozen=True, kw_only=True)
class ServiceEvent:
    """What notify tells the customer about a service: the service (a parent, or an add-on told
    on its own when its parent is not part of the same move: then `parent_id` names the parent)
    and the add-ons the same move concerned. The subclass says which move."""

    subscription_id: uuid.UUID
    account_id: str
    name: str
    domain: str | None
    cycle: str
    price: Decimal
    currency: str
    next_due_on: date | None
    add_ons: tuple[AddOnRef, ...]
    at: datetime
    parent_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class ServiceActivated(ServiceEvent):
    """Paid for the first time: active from today."""


@dataclass(frozen=True, kw_only=True)
class ServiceRenewed(ServiceEvent):
    """One more period paid: `next_due_on` is the new due date."""

    period_start: date
    period_end: date


@dataclass(frozen=True, kw_only=True)
class ServiceOverdue(ServiceEvent):
    """The reminder: the renewal due on `due_on` is unpaid; suspended on `suspends_on` if it stays so."""

    due_on: date
    suspends_on: date


@dataclass(frozen=True, kw_only=True)
class ServiceSuspended(ServiceEvent):
    reason: str  # "overdue", or an admin's reason


@dataclass(frozen=True, kw_only=True)
class ServiceReactivated(ServiceEvent):
    """Delivered again (the overdue renewal paid, or an admin lifted the suspension)."""


@dataclass(frozen=True, kw_only=True)
class ServiceTerminated(ServiceEvent):
    """Ended by us (unpaid too long, or an admin): its add-ons ended with it."""

    reason: str = "overdue"


@dataclass(frozen=True, kw_only=True)
class ServiceCancellationScheduled(ServiceEvent):
    """The customer cancelled at the end of the period: no renewal; it ends on `ends_on`."""

    ends_on: date


@dataclass(frozen=True, kw_only=True)
class ServiceCancelled(ServiceEvent):
    """Ended: on its due date after a scheduled cancellation, or at once by an admin."""

    reason: str = "period_end"  # "period_end" | "admin"
