"""An order's thread: messages between the business (an admin) and the customer (a user of the
order's account), oldest first. A message is a value once posted: never edited, never removed;
each one raises OrderMessagePosted, so the other side is emailed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from portal_runtime.errors import InvalidInput

BODY_LENGTH = 5000


class Side(StrEnum):
    BUSINESS = "business"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class OrderMessagePosted:
    message_id: uuid.UUID
    order_id: uuid.UUID
    number: str  # the order's
    account_id: str
    side: Side
    author: str
    author_name: str | None
    body: str
    at: datetime


def message_body(value: str | None) -> str:
    """The body as kept: stripped, 1 to 5000 characters (else 422 naming `body`)."""
    body = (value or "").strip()
    if not body:
        raise InvalidInput("body must not be empty", field="body")
    if len(body) > BODY_LENGTH:
        raise InvalidInput(f"body is longer than {BODY_LENGTH} characters", field="body")
    return body


@dataclass
class OrderMessage:
    id: uuid.UUID
    order_id: uuid.UUID
    account_id: str
    side: Side
    author: str  # account/user, or the admin's
    author_name: str | None  # the portal user's name; None for an admin or a user without a users row
    body: str
    posted_at: datetime
    events: list[OrderMessagePosted] = field(default_factory=list, repr=False)

    @classmethod
    def post(
        cls,
        *,
        order_id: uuid.UUID,
        number: str,
        account_id: str,
        side: Side,
        author: str,
        author_name: str | None,
        body: str,
        now: datetime,
    ) -> OrderMessage:
        message = cls(uuid.uuid4(), order_id, account_id, side, author, author_name, message_body(body), now)
        message.events.append(
            OrderMessagePosted(message.id, order_id, number, account_id, side, author, author_name, message.body, now)
        )
        return message
