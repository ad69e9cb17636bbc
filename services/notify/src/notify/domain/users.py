"""notify's copy of a customer account's user (orders.users): its login, name, the address and the
language it hears from us in, and the one address it proved.

The invitation email goes to the invited address unconfirmed: its link (or, with an identity
provider, the provider's sign-in) is the proof, and `UserActivated` (the first password set through
that link) marks the address confirmed. A user's other emails (its support requests) go only to an
address it proved (or to the account's confirmed one). A changed address is unconfirmed again: it
gets one confirmation email with a token (as an account's, `notify.domain.recipients`), and is
confirmed when the token comes back. The newest change (`changed_at`) wins; an older one is ignored."""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from notify.domain.events import AddressConfirmed, ConfirmationRequested
from notify.domain.recipients import Confirmation, ConfirmationExpired, _checked, digest
from portal_runtime.errors import NotFound


def same_address(one: str | None, other: str | None) -> bool:
    """One mailbox, however its address is capitalised."""
    return one is not None and other is not None and one.strip().casefold() == other.strip().casefold()


@dataclass
class UserRecipient:
    user_id: uuid.UUID
    account_id: str
    login: str
    name: str
    email: str  # the newest address the user gave
    language: str
    changed_at: datetime
    confirmed_email: str | None = None  # the address it proved: the only one its emails go to
    confirmed_at: datetime | None = None
    confirmation: Confirmation | None = None
    events: list[ConfirmationRequested | AddressConfirmed] = field(default_factory=list, repr=False)

    @classmethod
    def invited(
        cls, *, user_id: uuid.UUID, account_id: str, login: str, name: str, email: str, language: str, at: datetime
    ) -> UserRecipient:
        return cls(user_id, account_id, login, name, _checked(email, language), language, at)

    def reinvited(self, *, name: str, email: str, language: str, at: datetime) -> None:
        """A new invitation (a new link): it goes to the address it names, which its link proves."""
        if at <= self.changed_at:
            return
        self.name, self.email, self.language, self.changed_at = name, _checked(email, language), language, at

    def activated(self, email: str, at: datetime) -> bool:
        """The link was used: the address it went to is proven. False when it was already."""
        email = email.strip()
        if same_address(self.confirmed_email, email):
            return False
        self.confirmed_email, self.confirmed_at = email, at
        if self.confirmation is not None and same_address(self.confirmation.email, email):
            self.confirmation = None
        self.events.append(AddressConfirmed(account_id=self.account_id, confirmed_at=at))
        return True

    def contact_changed(
        self, *, name: str, email: str, language: str, changed_at: datetime, now: datetime, valid_for: timedelta
    ) -> bool:
        """The user's contact details changed: taken if newer; an address it has not proved asks
        for a confirmation (ConfirmationRequested, with the token to mail to it)."""
        if changed_at <= self.changed_at:
            return False
        email = _checked(email, language)
        self.name, self.email, self.language, self.changed_at = name, email, language, changed_at
        if same_address(email, self.confirmed_email):
            if self.confirmation is not None and self.confirmation.pending:
                self.confirmation = None  # back to the proven address
            return True
        pending = self.confirmation
        if pending is not None and pending.email == email and pending.pending and not pending.expired(now):
            return True  # asked already, its token still works
        token = secrets.token_urlsafe(32)
        self.confirmation = Confirmation(email, digest(token), requested_at=now, expires_at=now + valid_for)
        self.events.append(
            ConfirmationRequested(
                account_id=self.account_id, email=email, language=language, token=token, expires_at=now + valid_for
            )
        )
        return True

    def confirm(self, token: str, now: datetime) -> bool:
        confirmation = self.confirmation
        if confirmation is None or not hmac.compare_digest(confirmation.token_hash, digest(token)):
            raise NotFound("no such confirmation token")
        if not confirmation.pending:
            return False
        if confirmation.expired(now):
            raise ConfirmationExpired(
                "this confirmation token has expired; the next change naming the address sends a new one",
                expired_at=confirmation.expires_at.isoformat(),
            )
        confirmation.confirmed_at = now
        self.confirmed_email, self.confirmed_at = confirmation.email, now
        self.events.append(AddressConfirmed(account_id=self.account_id, confirmed_at=now))
        return True
