"""What happens to orders' aggregates, as the domain says it: typed facts raised by the move that
made them (mapped to contract events, or to none, in `orders.adapters.events`). Standard library
and orders' own domain values only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

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
    request_id: uuid.UUID
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
