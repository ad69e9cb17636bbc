"""One email caused by one event: recorded, addressed, attempted, sent or failed.

waiting_for_recipient ──address──▶ pending ──send──▶ sent
  │                                ▲  │  ▲  ⟲ attempt (failed, tried again after the backoff)
  │ await_confirmation      address│  │  │retry (admin)
  ▼                                │  ▼  │
awaiting_confirmation ─────────────┘  failed   (fail: a permanent refusal, or its last attempt failed)

An email is addressed only to the account's confirmed address (`notify.domain.recipients`):
without a profile it waits for the recipient, with an address not confirmed yet for the
confirmation. The confirmation email itself is the one delivery addressed to an unconfirmed
address; it carries its token as `secret`, which the stored rendering holds only as
`SECRET_SLOT` (so the deliveries API never shows it), is put in when the email is handed to the
SMTP server, and is forgotten once it is sent.

Most emails are for the account (`Audience.ACCOUNT`, its confirmed address). An automatic unit
plan's notices are also for the billing contact the plan names (`Audience.BILLING_CONTACT`): the
address billing gives in the event, which the account's owner entered for its invoices; that one
waits only for the account's language (its profile), never for the account's confirmation. A
customer's message in an order's thread is for the business (`Audience.BUSINESS`): notify's own
setting names its address and language, so it is addressed at once; it is the account's delivery
(its account_id) that only admins see. One event causes at most one delivery per audience.

Every move is checked against `LIFECYCLE` (a forbidden one is `InvalidTransition`: 409 with
`current_status`) and raises its typed event (`notify.domain.events`) into `events`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from notify.domain.events import (
    AttemptFailed,
    DeliveryAddressed,
    DeliveryAwaitsConfirmation,
    DeliveryRetried,
    EmailFailed,
    EmailSent,
)
from portal_runtime.lifecycle import Lifecycle


class Audience(StrEnum):
    ACCOUNT = "account"
    BILLING_CONTACT = "billing_contact"
    USER = "user"  # a customer account's user (its invitation, its support requests): its own address
    BUSINESS = "business"  # the business itself (a customer's message in an order's thread): BUSINESS_EMAIL


class Status(StrEnum):
    WAITING = "waiting_for_recipient"
    AWAITING = "awaiting_confirmation"
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


LIFECYCLE = Lifecycle(
    "delivery",
    {
        (Status.WAITING, "address"): Status.PENDING,
        (Status.WAITING, "await_confirmation"): Status.AWAITING,
        (Status.AWAITING, "address"): Status.PENDING,
        (Status.PENDING, "send"): Status.SENT,
        (Status.PENDING, "attempt"): Status.PENDING,  # an attempt failed: tried again after the backoff
        (Status.PENDING, "fail"): Status.FAILED,
        (Status.FAILED, "retry"): Status.PENDING,
    },
)


@dataclass(frozen=True)
class Cause:
    """The event a delivery answers, as it came: its id and the conversation it belongs to (the
    delivery's own events are caused by it), its type, version and payload (so a delivery
    waiting for its recipient can be rendered later), and the W3C trace context it was handled
    in (`traceparent`, `tracestate`: its email's sending continues that trace), if any."""

    event_id: uuid.UUID
    correlation_id: uuid.UUID
    event_type: str
    version: int
    payload: dict
    trace: dict[str, str] | None = None


# Where a delivery's secret stands in its stored rendering (text and HTML alike: no character
# here is escaped in HTML).
SECRET_SLOT = "[token withheld]"


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: the n-th failed attempt waits base * factor**(n-1), at most `cap`;
    after `max_attempts` failed attempts the delivery fails."""

    max_attempts: int = 6
    base: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base < timedelta(0) or self.factor < 1:
            raise ValueError("backoff must not shrink")

    def delay(self, failed_attempts: int) -> timedelta:
        return min(self.base * self.factor ** (failed_attempts - 1), self.cap)

    def schedule(self) -> list[timedelta]:
        """The waits between attempts, for documentation and tests."""
        return [self.delay(n) for n in range(1, self.max_attempts)]


@dataclass
class Delivery:
    id: uuid.UUID
    account_id: str
    template: str
    cause: Cause
    status: Status
    created_at: datetime
    attempts: int = 0
    recipient: str | None = None
    language: str | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    secret: str | None = field(default=None, repr=False)  # put in SECRET_SLOT when sent, forgotten once sent
    audience: Audience = Audience.ACCOUNT
    dedup_key: str | None = None  # one email per thing told (an order), whichever event tells it
    pending_address: str | None = None  # a user's email awaiting its address's confirmation: where it goes then
    events: list[
        DeliveryAddressed | DeliveryAwaitsConfirmation | AttemptFailed | EmailSent | EmailFailed | DeliveryRetried
    ] = field(default_factory=list, repr=False)

    @property
    def cause_event_id(self) -> uuid.UUID:
        return self.cause.event_id

    @property
    def correlation_id(self) -> uuid.UUID:
        return self.cause.correlation_id

    @classmethod
    def record(
        cls,
        *,
        account_id: str,
        template: str,
        cause: Cause,
        now: datetime,
        address: tuple[str, str] | None = None,
        content: Content | None = None,
        secret: str | None = None,
        audience: Audience = Audience.ACCOUNT,
        dedup_key: str | None = None,
    ) -> Delivery:
        """The one email `cause` asks for (for `audience`): pending if its recipient is known,
        else waiting for it."""
        delivery = cls(
            id=uuid.uuid4(),
            account_id=account_id,
            template=template,
            cause=cause,
            status=Status.WAITING,
            created_at=now,
            secret=secret,
            audience=audience,
            dedup_key=dedup_key,
        )
        if address is not None and content is not None:
            delivery.address(*address, content, now=now)
        return delivery

    def address(self, email: str, language: str, content: Content, *, now: datetime) -> None:
        """The recipient is known: the email is rendered and may be sent from now on."""
        self.status = LIFECYCLE.target(self.status, "address")
        self.recipient, self.language = email, language
        self.subject, self.text, self.html = content.subject, content.text, content.html
        self.next_attempt_at = now
        self.events.append(
            DeliveryAddressed(delivery_id=self.id, account_id=self.account_id, language=language, at=now)
        )

    def await_confirmation(self, now: datetime) -> None:
        """The account has an address but none confirmed: the email waits for the confirmation."""
        self.status = LIFECYCLE.target(self.status, "await_confirmation")
        self.events.append(DeliveryAwaitsConfirmation(delivery_id=self.id, account_id=self.account_id, at=now))

    def to_send(self) -> Content:
        """The email as it is handed over: the rendering with the secret (if any) in its slot."""
        if not (self.recipient and self.subject is not None and self.text is not None and self.html):
            raise ValueError(f"delivery {self.id} is not rendered")
        if self.secret is None:
            return Content(self.subject, self.text, self.html)
        return Content(
            self.subject, self.text.replace(SECRET_SLOT, self.secret), self.html.replace(SECRET_SLOT, self.secret)
        )

    def is_due(self, now: datetime) -> bool:
        return self.status == Status.PENDING and (self.next_attempt_at is None or self.next_attempt_at <= now)

    def succeeded(self, now: datetime) -> None:
        self.status = LIFECYCLE.target(self.status, "send")
        self.attempts += 1
        self.sent_at, self.next_attempt_at, self.last_error = now, None, None
        self.secret = None  # handed over: no copy is kept
        self.events.append(EmailSent(**self._which(), sent_at=now))

    def attempt_failed(self, error: str, now: datetime, policy: RetryPolicy, *, permanent: bool = False) -> None:
        """Record a failed attempt: try again after the backoff, or give up (and say so)."""
        gives_up = permanent or self.attempts + 1 >= policy.max_attempts
        self.status = LIFECYCLE.target(self.status, "fail" if gives_up else "attempt")
        self.attempts += 1
        self.last_error = error[:1000]
        if gives_up:
            self.failed_at, self.next_attempt_at = now, None
            self.events.append(
                EmailFailed(**self._which(), error=self.last_error, attempts=self.attempts, failed_at=now)
            )
        else:
            self.next_attempt_at = now + policy.delay(self.attempts)
            self.events.append(AttemptFailed(self.id, self.attempts, self.last_error, self.next_attempt_at))

    def retry(self, now: datetime) -> None:
        """An admin sends a failed delivery again: a fresh round of attempts, starting now."""
        self.status = LIFECYCLE.target(self.status, "retry")
        self.attempts, self.next_attempt_at, self.failed_at = 0, now, None
        self.events.append(DeliveryRetried(delivery_id=self.id, at=now))

    def _which(self) -> dict:
        """Which email an end of a delivery (EmailSent, EmailFailed) is about."""
        return {
            "delivery_id": self.id,
            "account_id": self.account_id,
            "template": self.template,
            "cause_event_id": self.cause_event_id,
        }
