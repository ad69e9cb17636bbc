"""An account's profile: where and in which language it wants to hear from us."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from orders.domain.events import AccountProfileChanged
from portal_runtime.errors import InvalidInput
from portal_runtime.kernel import LANGUAGES

# A deliberately simple shape check (one @, no spaces, a dot in the domain); pydantic's
# EmailStr would need the email-validator package, which the project does not carry.
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL.match(email):
        raise InvalidInput("email is not a valid address", field="email")
    local, domain = email.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


@dataclass
class Profile:
    account_id: str
    email: str
    language: str
    updated_at: datetime
    events: list[AccountProfileChanged] = field(default_factory=list, repr=False)

    @classmethod
    def new(cls, account_id: str, email: str, language: str, now: datetime) -> Profile:
        profile = cls(account_id, "", "", now)
        profile.change(email, language, now)
        return profile

    def change(self, email: str, language: str, now: datetime) -> bool:
        """Set email and language; True (and AccountProfileChanged raised) when something changed."""
        email = check_email(email)
        if language not in LANGUAGES:
            raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", field="language")
        if (email, language) == (self.email, self.language):
            return False
        self.email, self.language, self.updated_at = email, language, now
        self.events.append(AccountProfileChanged(self.account_id, email, language, now))
        return True
