"""What the HTTP API reads and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from orders.adapters.repository import RequestHeader
from orders.domain.profiles import EMAIL, Profile
from orders.domain.requests import MAX_LINES, MAX_QUANTITY, MAX_TEXT
from orders.domain.subscriptions import Subscription
from orders.service.requests import RequestView
from portal_runtime.lifecycle import Transition

Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- in ------------------------------------------------------------------------------------
class ProfileIn(Strict):
    email: Annotated[
        str, Field(min_length=3, max_length=254, pattern=EMAIL.pattern, description="one @, a dot after it")
    ]
    language: Literal["en", "tr", "de", "pl"]


class LineIn(Strict):
    item_id: uuid.UUID
    quantity: Quantity


class NewRequestIn(Strict):
    lines: Annotated[list[LineIn], Field(max_length=MAX_LINES)] = []


class QuantityIn(Strict):
    quantity: Quantity


class AnswerIn(Strict):
    answer: Text


class ReasonIn(Strict):
    reason: Text


class QuestionIn(Strict):
    question: Text


# -- out -----------------------------------------------------------------------------------
class ProfileOut(BaseModel):
    account_id: str
    email: str
    language: str
    updated_at: datetime

    @classmethod
    def of(cls, p: Profile) -> ProfileOut:
        return cls(account_id=p.account_id, email=p.email, language=p.language, updated_at=p.updated_at)


class LineOut(BaseModel):
    item_id: uuid.UUID
    name: str | None
    quantity: int
    unit_price: Decimal | None
    line_total: Decimal | None
    currency: str | None
    billing: str | None
    billing_period_months: int | None
    available: bool


class ProblemOut(BaseModel):
    item_id: uuid.UUID | None
    field: str
    message: str


class RequestOut(BaseModel):
    id: uuid.UUID
    account_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    lines: list[LineOut]
    currency: str | None
    total: Decimal | None = Field(description="computed by the server; null while a line cannot be priced")
    problems: list[ProblemOut]

    @classmethod
    def of(cls, view: RequestView) -> RequestOut:
        r, s = view.request, view.summary
        return cls(
            id=r.id,
            account_id=r.account_id,
            status=r.status,
            created_at=r.created_at,
            updated_at=r.updated_at,
            submitted_at=r.submitted_at,
            currency=s.currency,
            total=s.total,
            lines=[
                LineOut(
                    item_id=p.item_id,
                    name=p.name,
                    quantity=p.quantity,
                    unit_price=p.unit_price,
                    line_total=p.line_total,
                    currency=p.currency,
                    billing=p.billing,
                    billing_period_months=p.billing_period_months,
                    available=p.available,
                )
                for p in s.lines
            ],
            problems=[ProblemOut(item_id=p.item_id, field=p.field, message=p.message) for p in s.problems],
        )


class RequestHeaderOut(BaseModel):
    id: uuid.UUID
    account_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    total: Decimal | None
    currency: str | None

    @classmethod
    def of(cls, h: RequestHeader) -> RequestHeaderOut:
        return cls(**vars(h))


class TransitionOut(BaseModel):
    at: datetime
    by: str
    from_status: str | None
    to_status: str
    note: str | None

    @classmethod
    def of(cls, t: Transition) -> TransitionOut:
        return cls(at=t.at, by=t.by, from_status=t.from_status, to_status=t.to_status, note=t.note)


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    request_id: uuid.UUID
    item_id: uuid.UUID
    name: str
    quantity: int
    unit_price: Decimal
    currency: str
    billing: str
    billing_period_months: int | None
    status: str
    activated_on: date | None = Field(description="null while pending")
    next_due_on: date | None

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionOut:
        return cls(**{f: getattr(s, f) for f in cls.model_fields})
