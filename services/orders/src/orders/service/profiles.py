"""Account profiles: the caller's own; a change and its AccountProfileChanged commit together."""

from __future__ import annotations

from orders.domain.profiles import Profile
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.uow import UnitsOfWork


class ProfileService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def put(self, actor: Principal, email: str, language: str) -> Profile:
        """Set the caller's account's profile; AccountProfileChanged is published when something changed."""
        now = self.clock.now()
        async with self.uow() as uow:
            profile = await uow.profiles.get(actor.account_id, for_update=True)
            if profile is None:
                profile = uow.profiles.add(Profile.new(actor.account_id, email, language, now))
            else:
                profile.change(email, language, now)
            await uow.commit()
        return profile

    async def get(self, actor: Principal) -> Profile:
        async with self.uow() as uow:
            profile = await uow.profiles.get(actor.account_id)
        if profile is None:
            raise NotFound("this account has no profile yet")
        return profile
