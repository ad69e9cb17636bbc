"""What happens to an email delivery and to an account's address, as the domain says it (typed;
mapped to contract events in `notify.adapters.events`: EmailSent and EmailFailed go out on
`notify.deliveries`, the others stay inside notify)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class DeliveryAddressed:
    """The recipient is known: the email is rendered in its language and may be sent."""

    delivery_id: uuid.UUID
    account_id: str
    language: str
    at: datetime


@dataclass(frozen=True)
class AttemptFailed:
    """An attempt failed; the delivery stays pending and is tried again at `next_attempt_at`."""

    delivery_id: uuid.UUID
    attempts: int
    error: str
    next_attempt_at: datetime


@dataclass(frozen=True)
class EmailSent:
    delivery_id: uuid.UUID
    account_id: str
    template: str
    cause_event_id: uuid.UUID
    sent_at: datetime


@dataclass(frozen=True)
class EmailFailed:
    """The delivery gave up: a permanent refusal, or its last allowed attempt failed."""

    delivery_id: uuid.UUID
    account_id: str
    template: str
    cause_event_id: uuid.UUID
    error: str
    attempts: int
    failed_at: datetime


@dataclass(frozen=True)
class DeliveryRetried:
    """An admin sent a failed delivery again: a fresh round of attempts from `at`."""

    delivery_id: uuid.UUID
    at: datetime


@dataclass(frozen=True)
class DeliveryAwaitsConfirmation:
    """The account has an address, but none confirmed yet: the email waits for the confirmation."""

    delivery_id: uuid.UUID
    account_id: str
    at: datetime


@dataclass(frozen=True)
class ConfirmationRequested:
    """A profile named an address the account has not confirmed: one email asking its mailbox to
    confirm goes to it, carrying `token` (this event and that email are the token's only plain
    copies; the recipient keeps its digest)."""

    account_id: str
    email: str
    language: str
    token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class AddressConfirmed:
    """The token came back: the account's emails go to its newly confirmed address from now on."""

    account_id: str
    confirmed_at: datetime
