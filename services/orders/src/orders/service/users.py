"""Users of customer accounts: an admin creates (invites), lists, reads (with history), disables
and enables them and sends a new set-password link; a customer lists its company's users; a user
reads and changes its own contact details (`/v1/me`). Each change, its events and orders' own
`user_access` row commit together."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from orders.adapters.users_repository import UserRepository
from orders.domain.users import User
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.lifecycle import Transition
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


def token_hash(token: str) -> str:
    """What is stored of a set-password link's token: its sha256 (the token is only in the event)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class UserDetail:
    user: User
    history: list[Transition]
    invitation_expires_at: datetime | None


class UserService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, *, invitation_hours: int = 72, local_sign_in: bool = True):
        self.uow = uow
        self.clock = clock
        self.invitation = timedelta(hours=invitation_hours)
        self.local_sign_in = local_sign_in  # False with an identity provider: it invites, no token here

    async def create(
        self,
        actor: Principal,
        account_id: str,
        *,
        login: str,
        name: str,
        email: str,
        language: str,
        account_role: str,
        phone: str | None = None,
    ) -> User:
        now = self.clock.now()
        async with self.uow() as uow:
            users = UserRepository(uow)
            user = users.add(
                User.create(
                    account_id,
                    login=login,
                    name=name,
                    email=email,
                    language=language,
                    account_role=account_role,
                    phone=phone,
                    by=actor.actor,
                    now=now,
                )
            )
            await users.save(user)  # the row first (a taken login is a 409), then its link
            await self._invite(users, user, actor, now)
            await uow.commit()
        return user

    async def invite(self, actor: Principal, user_id: uuid.UUID) -> User:
        """A new link: the old one stops working."""
        now = self.clock.now()
        async with self.uow() as uow:
            users = UserRepository(uow)
            user = await self._get(users, user_id, for_update=True)
            await self._invite(users, user, actor, now)
            await uow.commit()
        return user

    async def _invite(self, users: UserRepository, user: User, actor: Principal, now: datetime) -> None:
        token = expires_at = None
        if self.local_sign_in:
            token, expires_at = secrets.token_urlsafe(32), now + self.invitation
            await users.put_invitation(user.id, token_hash(token), expires_at, now)
        user.invite(token, expires_at, by=actor.actor, now=now)

    async def disable(self, actor: Principal, user_id: uuid.UUID) -> User:
        now = self.clock.now()
        async with self.uow() as uow:
            users = UserRepository(uow)
            user = await self._get(users, user_id, for_update=True)
            user.disable(by=actor.actor, now=now)
            await users.drop_invitation(user.id)  # a disabled user's link stops working too
            await uow.commit()
        return user

    async def enable(self, actor: Principal, user_id: uuid.UUID) -> User:
        now = self.clock.now()
        async with self.uow() as uow:
            users = UserRepository(uow)
            user = await self._get(users, user_id, for_update=True)
            user.enable(by=actor.actor, now=now)
            await uow.commit()
        return user

    async def get(self, actor: Principal, user_id: uuid.UUID) -> UserDetail:
        async with self.uow() as uow:
            users = UserRepository(uow)
            user = await self._get(users, user_id)
            if not actor.owns(user.account_id):
                raise NotFound(f"user {user_id} does not exist")
            invitation = await users.invitation_of(user.id)
            expires_at = invitation.expires_at if invitation else None
            history = await users.history(user.id)
        return UserDetail(user, history, expires_at)

    async def of_account(self, actor: Principal, account_id: str, page: PageRequest) -> Slice[User]:
        scope = actor.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await UserRepository(uow).of_account(account_id, page)

    async def me(self, actor: Principal) -> User:
        async with self.uow() as uow:
            return await self._me(UserRepository(uow), actor)

    async def change_me(self, actor: Principal, *, name: str, email: str, language: str, phone: str | None) -> User:
        now = self.clock.now()
        async with self.uow() as uow:
            users = UserRepository(uow)
            user = await self._me(users, actor, for_update=True)
            user.change_contact(name=name, email=email, language=language, phone=phone, by=actor.actor, now=now)
            await uow.commit()
        return user

    @staticmethod
    async def _me(users: UserRepository, actor: Principal, *, for_update: bool = False) -> User:
        user = await users.by_login(actor.user_id, for_update=for_update)
        if user is None or user.account_id != actor.account_id:
            raise NotFound("the caller is no user of the portal (its token names no user of this account)")
        return user

    @staticmethod
    async def _get(users: UserRepository, user_id: uuid.UUID, *, for_update: bool = False) -> User:
        user = await users.get(user_id, for_update=for_update)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        return user
