"""Where and in which language an account hears from us: notify's own copy, the newest wins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from portal_runtime.errors import InvalidInput
from portal_runtime.kernel import LANGUAGES

# Deliberately loose: the owner (orders) validates addresses; here we only refuse what could
# break a mail header or is plainly not an address.
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


@dataclass
class Recipient:
    account_id: str
    email: str
    language: str
    changed_at: datetime

    @classmethod
    def create(cls, *, account_id: str, email: str, language: str, changed_at: datetime) -> Recipient:
        recipient = cls(account_id=account_id, email=email.strip(), language=language, changed_at=changed_at)
        recipient._check()
        return recipient

    def apply(self, *, email: str, language: str, changed_at: datetime) -> bool:
        """Take a profile change if it is newer than what we hold; an older or equally old one
        (out of order, or a replay) changes nothing. Returns whether it was taken."""
        if changed_at <= self.changed_at:
            return False
        newer = Recipient.create(account_id=self.account_id, email=email, language=language, changed_at=changed_at)
        self.email, self.language, self.changed_at = newer.email, newer.language, newer.changed_at
        return True

    def _check(self) -> None:
        if not self.account_id:
            raise InvalidInput("account_id must not be empty", field="account_id")
        # The message never repeats the address: errors end up in logs and dead-letter headers.
        if len(self.email) > 320 or not _ADDRESS.match(self.email):
            raise InvalidInput("email is not a usable address", field="email")
        if self.language not in LANGUAGES:
            raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", field="language")
