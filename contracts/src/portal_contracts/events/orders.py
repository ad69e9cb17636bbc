"""Events orders publishes about accounts' profiles and service requests."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from portal_contracts.base import Event, Money, event

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
