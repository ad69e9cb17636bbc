"""Local sign-in (where no identity provider is configured): the password set through the emailed
link, the OAuth2 password grant of `POST /v1/auth/token`, the password changed with the old one,
and the lock of a login after repeated failures.

Passwords are hashed with argon2id (argon2-cffi's PasswordHasher; a hash made with older
parameters is redone on the next good login). An unknown login, a user without a password (invited)
or a disabled one is checked against a dummy hash and answers like a wrong password, so neither the
answer nor its time tells whether the user exists; the failures are counted per lower-cased login,
user or not, and a locked login answers alike for both, even with the right password.

Times: the lock and the links follow the service clock (tests move it); a token's `iat`/`exp` and a
user's `tokens_valid_from` follow the system clock, the one every service checks tokens on."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from orders.adapters.users_repository import UserRepository
from orders.domain.users import User, check_password
from orders.service.users import token_hash
from portal_runtime.access import issue_local_token
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, SystemClock
from portal_runtime.errors import DomainError, InvalidInput, NotFound
from portal_runtime.uow import UnitsOfWork

IDENTITY_PROVIDER = "sign-in is done by the identity provider"


class LinkNotValid(DomainError):
    """A used, expired or unknown set-password link: one answer for all three."""

    status_code = 400
    problem_kind = "invalid-link"

    def __init__(self) -> None:
        super().__init__("the link is not valid (any more): ask for a new one", field="token")


class InvalidGrant(Exception):
    """OAuth2 `invalid_grant`: a wrong login or password (which one is not told)."""


class LoginLocked(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed sign-ins: try again later")
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


class Passwords:
    """argon2id hashing, off the event loop (a check takes tens of milliseconds of CPU)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self.dummy = self.hasher.hash("a password no user has, checked so unknown logins take as long")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self.hasher.verify(password_hash or self.dummy, password)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check) and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)


class AuthService:
    def __init__(
        self,
        uow: UnitsOfWork,
        clock: Clock,
        *,
        secret: str | None,
        local_sign_in: bool = True,
        lock_after_failures: int = 5,
        lock_minutes: int = 15,
        token_minutes: int = 480,
        passwords: Passwords | None = None,
        token_clock: Clock | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.secret = secret
        self.local_sign_in = local_sign_in and secret is not None
        self.lock_after = lock_after_failures
        self.lock = timedelta(minutes=lock_minutes)
        self.ttl = timedelta(minutes=token_minutes)
        self.passwords = passwords or Passwords()
        self.token_clock = token_clock or SystemClock()

    def check_on(self) -> None:
        if not self.local_sign_in:
            raise NotFound(IDENTITY_PROVIDER)

    def _issue(self, user: User, at: datetime) -> IssuedToken:
        assert self.secret is not None
        token = issue_local_token(
            self.secret, account_id=user.account_id, login=user.login, user_id=user.id, ttl=self.ttl, now=at
        )
        return IssuedToken(token, int(self.ttl.total_seconds()))

    async def set_password(self, token: str, password: str) -> User:
        """The password set through the link (the first one activates the user); the link is used up."""
        self.check_on()
        now = self.clock.now()
        async with self.uow() as uow:
            users = UserRepository(uow)
            link = await users.invitation(token_hash(token)) if token else None
            if link is None or link.expires_at <= now:
                raise LinkNotValid()
            user = await users.get(link.user_id, for_update=True)
            if user is None or user.status == "disabled":
                raise LinkNotValid()
            check_password(password, user.login)
            user.set_password(await self.passwords.hash(password), tokens_from=self.token_clock.now(), now=now)
            await users.drop_invitation(user.id)
            await users.forget_failures(user.login)
            await uow.commit()
        return user

    async def token(self, username: str, password: str) -> IssuedToken:
        """The password grant: a token of the local issuer, or InvalidGrant / LoginLocked."""
        self.check_on()
        login = username.strip().lower()[:200]
        now = self.clock.now()
        async with self.uow() as uow:
            users = UserRepository(uow)
            failures = await users.failures(login)  # locked for this transaction
            if failures.locked_until is not None:
                if failures.locked_until > now:
                    await uow.commit()
                    raise LoginLocked(max(1, math.ceil((failures.locked_until - now).total_seconds())))
                failures.failures, failures.locked_until = 0, None
            user = await users.by_login(login, for_update=True)
            usable = user is not None and user.active and user.password_hash is not None
            ok = await self.passwords.verify(user.password_hash if usable else None, password)
            if not ok:
                if failures.failures == 0 or failures.first_at + self.lock <= now:
                    failures.failures, failures.first_at = 0, now
                failures.failures += 1
                if failures.failures >= self.lock_after:
                    failures.locked_until, failures.failures = now + self.lock, 0
                await uow.commit()
                raise InvalidGrant()
            assert user is not None and user.password_hash is not None
            if self.passwords.needs_rehash(user.password_hash):
                user.rehash(await self.passwords.hash(password))
            await users.forget_failures(login)
            await uow.commit()
        return self._issue(user, self.token_clock.now())

    async def change_password(self, actor: Principal, old_password: str, new_password: str) -> IssuedToken:
        """Every token issued before now stops working (in orders at once, elsewhere on the event);
        the answer is a new one."""
        self.check_on()
        now = self.clock.now()
        async with self.uow() as uow:
            users = UserRepository(uow)
            user = await users.by_login(actor.user_id, for_update=True)
            if user is None or user.account_id != actor.account_id:
                raise NotFound("the caller is no user of the portal (its token names no user of this account)")
            if not await self.passwords.verify(user.password_hash, old_password):
                raise InvalidInput("old_password is not the current password", field="old_password")
            check_password(new_password, user.login, name="new_password")
            at = self.token_clock.now()
            user.change_password(await self.passwords.hash(new_password), tokens_from=at, now=now)
            await uow.commit()
        return self._issue(user, at)
