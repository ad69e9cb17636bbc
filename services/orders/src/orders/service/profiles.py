"""Account profiles: one transaction per command; the change and its event commit together."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders.adapters.events import profile_changed
from orders.adapters.repository import ProfileRepository
from orders.domain.profiles import Profile
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.outbox import Outbox


class ProfileService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox, clock: Clock) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.clock = clock

    async def put(
        self, account_id: str, email: str, language: str, *, correlation_id: uuid.UUID | None = None
    ) -> Profile:
        """Set the account's profile; AccountProfileChanged is published when something changed."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            repo = ProfileRepository(session)
            profile = await repo.get(account_id, for_update=True)
            if profile is None:
                profile, changed = Profile.new(account_id, email, language, now), True
            else:
                changed = profile.change(email, language, now)
            if changed:
                await repo.save(profile)
                self.outbox.stage(session, profile_changed(profile), correlation_id=correlation_id)
        return profile

    async def get(self, account_id: str) -> Profile:
        async with self.sessions() as session:
            profile = await ProfileRepository(session).get(account_id)
        if profile is None:
            raise NotFound("this account has no profile yet")
        return profile
