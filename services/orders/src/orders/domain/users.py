"""A user of a customer account: who logs in to the portal with a login and a password.

    invited → active            (its first password set through the emailed link)
    invited | active → disabled (an admin)
    disabled → active | invited (an admin enables it: active again if it has a password)

A new link (invitation) may be sent while invited or active (it replaces the old one); setting a
password through it keeps an active user active. Each move records one history row and raises its
typed event; access changes (disabled, enabled, password set or changed) raise UserAccessChanged,
which every service applies to its copy of `user_access`."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from orders.domain.profiles import check_email
from portal_runtime.errors import InvalidInput
from portal_runtime.kernel import LANGUAGES
from portal_runtime.lifecycle import InvalidTransition, Lifecycle, Transition


class UserStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DISABLED = "disabled"


LIFECYCLE = Lifecycle(
    "user",
    {
        (UserStatus.INVITED, "activate"): UserStatus.ACTIVE,
        (UserStatus.ACTIVE, "set_password"): UserStatus.ACTIVE,
        (UserStatus.INVITED, "disable"): UserStatus.DISABLED,
        (UserStatus.ACTIVE, "disable"): UserStatus.DISABLED,
        (UserStatus.INVITED, "invite"): UserStatus.INVITED,
        (UserStatus.ACTIVE, "invite"): UserStatus.ACTIVE,
        (UserStatus.ACTIVE, "change_password"): UserStatus.ACTIVE,
        (UserStatus.INVITED, "edit"): UserStatus.INVITED,
        (UserStatus.ACTIVE, "edit"): UserStatus.ACTIVE,
        (UserStatus.DISABLED, "edit"): UserStatus.DISABLED,
    },
)

LOGIN = re.compile(r"^[a-z0-9._@-]{3,100}$")
MIN_PASSWORD, MAX_PASSWORD = 12, 128
MAX_NAME = 200
MAX_ROLE = 40
PHONE = re.compile(r"^\+?[0-9 ()./-]{3,40}$")


def check_login(login: str) -> str:
    login = login.strip().lower()
    if not LOGIN.match(login):
        raise InvalidInput("login must be 3-100 characters of a-z, 0-9 and . _ @ -", field="login")
    return login


def check_password(password: str, login: str, *, name: str = "password") -> str:
    """The password policy: 12 to 128 characters, not the login."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"{name} must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long", field=name)
    if password.strip().lower() == login.lower():
        raise InvalidInput(f"{name} must not be the login", field=name)
    return password


def _text(value: str, name: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise InvalidInput(f"{name} must be 1 to {limit} characters", field=name)
    return value


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", field="language")
    return language


def _phone(phone: str | None) -> str | None:
    if phone is None or not phone.strip():
        return None
    phone = phone.strip()
    if not PHONE.match(phone):
        raise InvalidInput("phone is not a valid telephone number", field="phone")
    return phone


# -- events --------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserInvited:
    user_id: uuid.UUID
    account_id: str
    login: str
    name: str
    email: str
    language: str
    account_role: str
    token: str | None
    expires_at: datetime | None
    by: str
    at: datetime


@dataclass(frozen=True)
class UserActivated:
    user_id: uuid.UUID
    account_id: str
    login: str
    email: str
    language: str
    at: datetime


@dataclass(frozen=True)
class UserContactChanged:
    user_id: uuid.UUID
    account_id: str
    login: str
    name: str
    email: str
    language: str
    at: datetime


@dataclass(frozen=True)
class UserAccessChanged:
    user_id: uuid.UUID
    account_id: str
    login: str
    active: bool
    tokens_valid_from: datetime
    reason: str  # disabled | enabled | password_set | password_changed
    by: str
    at: datetime


UserEvent = UserInvited | UserActivated | UserContactChanged | UserAccessChanged


@dataclass
class User:
    id: uuid.UUID
    account_id: str
    login: str
    name: str
    email: str
    language: str
    account_role: str
    phone: str | None
    status: UserStatus
    password_hash: str | None
    tokens_valid_from: datetime
    created_at: datetime
    created_by: str
    history: list[Transition[UserStatus]] = field(default_factory=list, repr=False)
    events: list[UserEvent] = field(default_factory=list, repr=False)

    @classmethod
    def create(
        cls,
        account_id: str,
        *,
        login: str,
        name: str,
        email: str,
        language: str,
        account_role: str,
        phone: str | None = None,
        by: str,
        now: datetime,
    ) -> User:
        user = cls(
            id=uuid.uuid4(),
            account_id=account_id,
            login=check_login(login),
            name=_text(name, "name", MAX_NAME),
            email=check_email(email),
            language=_language(language),
            account_role=_text(account_role, "account_role", MAX_ROLE),
            phone=_phone(phone),
            status=UserStatus.INVITED,
            password_hash=None,
            tokens_valid_from=now,
            created_at=now,
            created_by=by,
        )
        user.history.append(LIFECYCLE.begin(UserStatus.INVITED, by=by, at=now, note="created"))
        return user

    @property
    def active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    def invite(self, token: str | None, expires_at: datetime | None, *, by: str, now: datetime) -> None:
        """A (new) link to set the password; with an identity provider, no token (it invites)."""
        step = LIFECYCLE.move(self.status, "invite", by=by, at=now, note="invitation sent")
        self.history.append(step)
        self.events.append(
            UserInvited(
                self.id,
                self.account_id,
                self.login,
                self.name,
                self.email,
                self.language,
                self.account_role,
                token,
                expires_at,
                by,
                now,
            )
        )

    def set_password(self, password_hash: str, *, tokens_from: datetime, now: datetime) -> None:
        """The password set through the link: the first one activates the user (address proven)."""
        first = self.status is UserStatus.INVITED
        step = LIFECYCLE.move(
            self.status, "activate" if first else "set_password", by=self.actor, at=now, note=("password set")
        )
        self.status, self.password_hash, self.tokens_valid_from = step.to_status, password_hash, tokens_from
        self.history.append(step)
        if first:
            self.events.append(UserActivated(self.id, self.account_id, self.login, self.email, self.language, now))
        self._access("password_set", by=self.actor, now=now)

    def change_password(self, password_hash: str, *, tokens_from: datetime, now: datetime) -> None:
        step = LIFECYCLE.move(self.status, "change_password", by=self.actor, at=now, note="password changed")
        self.password_hash, self.tokens_valid_from = password_hash, tokens_from
        self.history.append(step)
        self._access("password_changed", by=self.actor, now=now)

    def rehash(self, password_hash: str) -> None:
        """The same password under newer hashing parameters: no move, no event."""
        self.password_hash = password_hash

    def disable(self, *, by: str, now: datetime) -> None:
        step = LIFECYCLE.move(self.status, "disable", by=by, at=now)
        self.status = step.to_status
        self.history.append(step)
        self._access("disabled", by=by, now=now)

    def enable(self, *, by: str, now: datetime) -> None:
        if self.status is not UserStatus.DISABLED:
            raise InvalidTransition("user", "enable", self.status)
        to = UserStatus.ACTIVE if self.password_hash else UserStatus.INVITED
        step = Transition(at=now, by=by, from_status=self.status, to_status=to, note="enabled")
        self.status = to
        self.history.append(step)
        self._access("enabled", by=by, now=now)

    def change_contact(
        self, *, name: str, email: str, language: str, phone: str | None, by: str, now: datetime
    ) -> bool:
        """Its own contact details; True (and UserContactChanged) when something changed."""
        LIFECYCLE.target(self.status, "edit")
        new = (_text(name, "name", MAX_NAME), check_email(email), _language(language), _phone(phone))
        if new == (self.name, self.email, self.language, self.phone):
            return False
        self.name, self.email, self.language, self.phone = new
        self.events.append(
            UserContactChanged(self.id, self.account_id, self.login, self.name, self.email, self.language, now)
        )
        return True

    @property
    def actor(self) -> str:
        return f"{self.account_id}/{self.login}"

    def _access(self, reason: str, *, by: str, now: datetime) -> None:
        self.events.append(
            UserAccessChanged(
                self.id, self.account_id, self.login, self.active, self.tokens_valid_from, reason, by, now
            )
        )
