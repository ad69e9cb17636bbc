"""A support request a customer user sends the business, and the conversation on it.

    open → answered (the business answered) → open (the customer replied) ... → closed

Every message is kept in order with its author's side (customer or business) and who wrote it; a
closed request takes no more messages. The sender's contact (where its emails go) is fixed when the
request is sent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import Lifecycle, Transition

SUBJECT_LENGTH = 200
MESSAGE_LENGTH = 5000


class Status(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class Side(StrEnum):
    CUSTOMER = "customer"
    BUSINESS = "business"


LIFECYCLE = Lifecycle(
    "support request",
    {
        (Status.OPEN, "answer"): Status.ANSWERED,
        (Status.ANSWERED, "answer"): Status.ANSWERED,
        (Status.OPEN, "reply"): Status.OPEN,
        (Status.ANSWERED, "reply"): Status.OPEN,
        (Status.OPEN, "close"): Status.CLOSED,
        (Status.ANSWERED, "close"): Status.CLOSED,
    },
)


@dataclass(frozen=True)
class Sender:
    login: str
    name: str
    email: str
    language: str


@dataclass(frozen=True)
class Message:
    side: Side
    by: str
    text: str
    at: datetime


@dataclass(frozen=True)
class SupportRequestReceived:
    request_id: uuid.UUID
    number: str
    account_id: str
    sender: Sender
    subject: str
    message: str
    order_id: uuid.UUID | None
    at: datetime


@dataclass(frozen=True)
class SupportRequestAnswered:
    request_id: uuid.UUID
    number: str
    account_id: str
    sender: Sender
    subject: str
    answer: str
    by: str
    at: datetime


@dataclass(frozen=True)
class SupportRequestClosed:
    request_id: uuid.UUID
    number: str
    account_id: str
    by: str
    at: datetime


SupportEvent = SupportRequestReceived | SupportRequestAnswered | SupportRequestClosed


def _text(value: str, name: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{name} must not be empty", field=name)
    if len(text) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters", field=name)
    return text


@dataclass
class SupportRequest:
    id: uuid.UUID
    number: str
    account_id: str
    sender: Sender
    subject: str
    order_id: uuid.UUID | None
    status: Status
    created_at: datetime
    updated_at: datetime
    messages: list[Message] = field(default_factory=list)
    history: list[Transition[Status]] = field(default_factory=list, repr=False)
    events: list[SupportEvent] = field(default_factory=list, repr=False)

    @classmethod
    def send(
        cls,
        *,
        number: str,
        account_id: str,
        sender: Sender,
        subject: str,
        message: str,
        order_id: uuid.UUID | None,
        by: str,
        now: datetime,
    ) -> SupportRequest:
        """A request sent (SupportRequestReceived). Refused: an empty or too long subject or message."""
        subject = _text(subject, "subject", SUBJECT_LENGTH)
        message = _text(message, "message", MESSAGE_LENGTH)
        request = cls(
            id=uuid.uuid4(),
            number=number,
            account_id=account_id,
            sender=sender,
            subject=subject,
            order_id=order_id,
            status=Status.OPEN,
            created_at=now,
            updated_at=now,
            messages=[Message(Side.CUSTOMER, by, message, now)],
        )
        request.history.append(LIFECYCLE.begin(Status.OPEN, by=by, at=now))
        request.events.append(
            SupportRequestReceived(request.id, number, account_id, sender, subject, message, order_id, now)
        )
        return request

    def answer(self, text: str, *, by: str, now: datetime) -> None:
        """The business answers (SupportRequestAnswered: emailed to the sender)."""
        text = _text(text, "message", MESSAGE_LENGTH)
        self._move("answer", by=by, now=now)
        self.messages.append(Message(Side.BUSINESS, by, text, now))
        self.events.append(
            SupportRequestAnswered(self.id, self.number, self.account_id, self.sender, self.subject, text, by, now)
        )

    def reply(self, text: str, *, by: str, now: datetime) -> None:
        """The customer adds to its request: it is open again for the business."""
        text = _text(text, "message", MESSAGE_LENGTH)
        self._move("reply", by=by, now=now)
        self.messages.append(Message(Side.CUSTOMER, by, text, now))

    def close(self, *, by: str, now: datetime, note: str | None = None) -> None:
        self._move("close", by=by, now=now, note=note)
        self.events.append(SupportRequestClosed(self.id, self.number, self.account_id, by, now))

    def _move(self, action: str, *, by: str, now: datetime, note: str | None = None) -> None:
        step = LIFECYCLE.move(self.status, action, by=by, at=now, note=note)
        if step.from_status != step.to_status:
            self.history.append(step)
        self.status = step.to_status
        self.updated_at = now
