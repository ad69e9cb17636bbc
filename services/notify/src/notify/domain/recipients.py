"""Where and in which language an account hears from us: notify's own copy of the profile (the
newest `changed_at` wins), and the one address its emails may go to: an address whose mailbox
said yes.

orders owns the profile and any customer may write any address into it, so an address from a
profile is only a request. notify mails it one confirmation, carrying a random token (url-safe,
256 bits; kept here only as its SHA-256, so a copy of the table confirms nothing), and takes the
address when that token comes back (`confirm`) before it expires. Until then every other email
goes to the address confirmed before, or, when there is none (a new account), waits for the
confirmation (`awaiting_confirmation`). Every address is confirmed, the first one too: a first
address is exactly where a stranger's mail would go.

A new change replaces a pending confirmation (its token stops working). The same address again
sends nothing while its confirmation is pending and valid (a replayed or repeated profile event,
a change of language); once it expired, the next profile change naming it sends a new one. The
confirmed address named again drops a pending change. The token that confirmed the current
address stays known: sending it again answers as the first time (`confirm` returns False)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from notify.domain.events import AddressConfirmed, ConfirmationRequested
from portal_runtime.errors import DomainError, InvalidInput, NotFound
from portal_runtime.kernel import LANGUAGES

# Deliberately loose: the owner (orders) validates addresses; here we only refuse what could
# break a mail header or is plainly not an address.
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")

# The email asking a mailbox to confirm its address: the one email sent to an unconfirmed address.
CONFIRMATION_TEMPLATE = "email_confirmation"


class ConfirmationExpired(DomainError):
    """The token was this account's, but its time ran out before it came back: 410."""

    status_code = 410


@dataclass(frozen=True)
class Confirming:
    """How long a token works, and the link the confirmation email carries (`{token}` stands for
    the token: the portal front-end's page that posts it back)."""

    valid_for: timedelta = timedelta(hours=48)
    link: str = "https://portal.invalid/account/confirm-email?token={token}"

    @property
    def hours(self) -> int:
        return int(self.valid_for.total_seconds() // 3600)


def digest(token: str) -> str:
    """What is stored of a token (and looked up by): its SHA-256. A token has 256 random bits,
    so a fast hash without salt is enough; nothing can be guessed from it."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Confirmation:
    """The newest address the account asked for, and the digest of the token mailed to it;
    pending until the token comes back (`confirmed_at`)."""

    email: str
    token_hash: str
    requested_at: datetime
    expires_at: datetime
    confirmed_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.confirmed_at is None

    def expired(self, now: datetime) -> bool:
        return self.pending and now >= self.expires_at


@dataclass
class Recipient:
    account_id: str
    language: str
    changed_at: datetime
    email: str | None = None  # the confirmed address: the only one an email goes to
    # when `email` was confirmed; None with an email: taken before addresses were confirmed (migration 0003)
    confirmed_at: datetime | None = None
    confirmation: Confirmation | None = None
    events: list[ConfirmationRequested | AddressConfirmed] = field(default_factory=list, repr=False)

    @classmethod
    def create(
        cls, *, account_id: str, email: str, language: str, changed_at: datetime, now: datetime, valid_for: timedelta
    ) -> Recipient:
        """An account's first profile: its language at once, its address once confirmed (it
        raises ConfirmationRequested)."""
        if not account_id:
            raise InvalidInput("account_id must not be empty", field="account_id")
        email = _checked(email, language)
        recipient = cls(account_id=account_id, language=language, changed_at=changed_at)
        recipient._ask(email, now=now, valid_for=valid_for)
        return recipient

    @property
    def pending_email(self) -> str | None:
        return self.confirmation.email if self.confirmation and self.confirmation.pending else None

    def apply(self, *, email: str, language: str, changed_at: datetime, now: datetime, valid_for: timedelta) -> bool:
        """Take a profile change if it is newer than what we hold; an older or equally old one
        (out of order, or a replay) changes nothing. Returns whether it was taken; a new address
        raises ConfirmationRequested (with the token to mail to it)."""
        if changed_at <= self.changed_at:
            return False
        email = _checked(email, language)
        self.language, self.changed_at = language, changed_at
        self._ask(email, now=now, valid_for=valid_for)
        return True

    def confirm(self, token: str, now: datetime) -> bool:
        """The token came back: its address becomes the one emails go to (AddressConfirmed).
        False when this token confirmed the current address already (nothing changes)."""
        confirmation = self.confirmation
        if confirmation is None or not hmac.compare_digest(confirmation.token_hash, digest(token)):
            raise NotFound("no such confirmation token")  # replaced by a newer change meanwhile
        if not confirmation.pending:
            return False
        if confirmation.expired(now):
            raise ConfirmationExpired(
                "this confirmation token has expired; the next profile change naming the address sends a new one",
                expired_at=confirmation.expires_at.isoformat(),
            )
        confirmation.confirmed_at = now
        self.email, self.confirmed_at = confirmation.email, now
        self.events.append(AddressConfirmed(account_id=self.account_id, confirmed_at=now))
        return True

    def _ask(self, email: str, *, now: datetime, valid_for: timedelta) -> None:
        if email == self.email:
            if self.confirmation is not None and self.confirmation.pending:
                self.confirmation = None  # back to the confirmed address: the pending change is dropped
            return
        pending = self.confirmation
        if pending is not None and pending.email == email and pending.pending and not pending.expired(now):
            return  # asked already, and its token still works: no second email
        token = secrets.token_urlsafe(32)
        self.confirmation = Confirmation(email, digest(token), requested_at=now, expires_at=now + valid_for)
        self.events.append(
            ConfirmationRequested(
                account_id=self.account_id,
                email=email,
                language=self.language,
                token=token,
                expires_at=now + valid_for,
            )
        )


def usable_address(email: str) -> bool:
    """Could an email go to this address (a header cannot be broken with it)? The address is never
    repeated in an error or a log line."""
    return len(email) <= 320 and _ADDRESS.match(email) is not None


def _checked(email: str, language: str) -> str:
    email = email.strip()
    # The message never repeats the address: errors end up in logs and dead-letter headers.
    if not usable_address(email):
        raise InvalidInput("email is not a usable address", field="email")
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", field="language")
    return email
