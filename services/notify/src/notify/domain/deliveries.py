"""One email caused by one event: recorded, addressed, attempted, sent or failed.

waiting_for_recipient ──address──▶ pending ──sent──▶ sent
                                    │  ▲
                      attempt failed│  │retry (admin)
                 (after max attempts)▼  │
                                    failed
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal_runtime.errors import Conflict

WAITING = "waiting_for_recipient"
PENDING = "pending"
SENT = "sent"
FAILED = "failed"
STATUSES = (WAITING, PENDING, SENT, FAILED)


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
    cause_event_id: uuid.UUID
    correlation_id: uuid.UUID
    status: str
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
    changes: list[str] = field(default_factory=list, repr=False)

    @classmethod
    def record(
        cls,
        *,
        account_id: str,
        template: str,
        cause_event_id: uuid.UUID,
        correlation_id: uuid.UUID,
        now: datetime,
        address: tuple[str, str] | None,
        content: Content | None,
    ) -> Delivery:
        delivery = cls(
            id=uuid.uuid4(),
            account_id=account_id,
            template=template,
            cause_event_id=cause_event_id,
            correlation_id=correlation_id,
            status=WAITING,
            created_at=now,
        )
        if address is not None and content is not None:
            delivery.address(*address, content, now=now)
        return delivery

    def address(self, email: str, language: str, content: Content, *, now: datetime) -> None:
        """The recipient is known: the email is rendered and may be sent from now on."""
        if self.status != WAITING:
            raise Conflict("the delivery has its recipient already", current_status=self.status)
        self.recipient, self.language = email, language
        self.subject, self.text, self.html = content.subject, content.text, content.html
        self.status, self.next_attempt_at = PENDING, now

    def is_due(self, now: datetime) -> bool:
        return self.status == PENDING and (self.next_attempt_at is None or self.next_attempt_at <= now)

    def succeeded(self, now: datetime) -> None:
        self._must_be_pending()
        self.attempts += 1
        self.status, self.sent_at, self.next_attempt_at, self.last_error = SENT, now, None, None
        self.changes.append(SENT)

    def attempt_failed(self, error: str, now: datetime, policy: RetryPolicy, *, permanent: bool = False) -> None:
        """Record a failed attempt: try again after the backoff, or give up (and say so)."""
        self._must_be_pending()
        self.attempts += 1
        self.last_error = error[:1000]
        if permanent or self.attempts >= policy.max_attempts:
            self.status, self.failed_at, self.next_attempt_at = FAILED, now, None
            self.changes.append(FAILED)
        else:
            self.next_attempt_at = now + policy.delay(self.attempts)

    def retry(self, now: datetime) -> None:
        """An admin sends a failed delivery again: a fresh round of attempts, starting now."""
        if self.status != FAILED:
            raise Conflict("only a failed delivery can be retried", current_status=self.status)
        self.status, self.attempts, self.next_attempt_at, self.failed_at = PENDING, 0, now, None

    def _must_be_pending(self) -> None:
        if self.status != PENDING:
            raise Conflict("only a pending delivery can be attempted", current_status=self.status)
