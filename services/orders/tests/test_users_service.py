"""The users' and sign-in use cases on a real PostgreSQL, without HTTP: a link expires after
USERS_INVITATION_HOURS and a disabled user's link stops working; a hash made with older argon2
parameters is redone on a good login; failures at once are all counted; orders' own `user_access`
row is written with the change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from orders.adapters.events import to_contract
from orders.adapters.repository import OrdersUnitOfWork
from orders.adapters.users_tables import UserRow
from orders.bootstrap import definition
from orders.service.auth import AuthService, InvalidGrant, LinkNotValid, LoginLocked, Passwords
from orders.service.users import UserService
from portal_runtime.access import UserAccessRecord
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.db import make_engine, make_sessionmaker
from portal_runtime.outbox import Outbox
from portal_runtime.testing import TEST_SECRET
from portal_runtime.uow import UnitsOfWork

ADMIN = Principal("admin", "ops", "admin")
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def world(migrated_database):
    engine = make_engine(await migrated_database(definition()))
    clock = FrozenClock(datetime.now(UTC))
    uow = UnitsOfWork(make_sessionmaker(engine), Outbox("orders", clock), to_contract, OrdersUnitOfWork)
    users = UserService(uow, clock, invitation_hours=72)
    auth = AuthService(uow, clock, secret=TEST_SECRET, passwords=Passwords(PasswordHasher(time_cost=1)))
    yield users, auth, clock, uow
    await engine.dispose()


async def invited(users: UserService, uow, login: str) -> str:
    user = await users.create(
        ADMIN, "acme", login=login, name="N", email=f"{login}@acme.example", language="en", account_role="buyer"
    )
    async with uow() as u:
        from portal_runtime.db import OutboxRecord

        rows = await u.session.scalars(select(OutboxRecord).where(OutboxRecord.event_type == "UserInvited"))
        return [r.envelope["data"]["set_password_token"] for r in rows if r.envelope["data"]["login"] == user.login][-1]


async def test_a_link_expires_and_a_disabled_users_link_stops_working(world):
    users, auth, clock, uow = world
    link = await invited(users, uow, "erin")
    clock.advance(hours=72)
    with pytest.raises(LinkNotValid):
        await auth.set_password(link, PASSWORD)
    frank = await invited(users, uow, "frank")
    gina = await invited(users, uow, "gina")
    async with uow() as u:
        gina_id = await u.session.scalar(select(UserRow.id).where(UserRow.login == "gina"))
    await users.disable(ADMIN, gina_id)
    with pytest.raises(LinkNotValid):
        await auth.set_password(gina, PASSWORD)
    await auth.set_password(frank, PASSWORD)
    async with uow() as u:
        row = await u.session.get(UserAccessRecord, ("acme", "frank"))
        assert (row.active, row.tokens_valid_from <= datetime.now(UTC)) == (True, True)


async def test_an_old_hash_is_redone_on_a_good_login(world):
    users, auth, clock, uow = world
    await auth.set_password(await invited(users, uow, "hank"), PASSWORD)
    old = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    async with uow() as u:
        (await u.session.scalar(select(UserRow).where(UserRow.login == "hank"))).password_hash = old
        await u.session.commit()
    await auth.token("hank", PASSWORD)
    async with uow() as u:
        now = (await u.session.scalar(select(UserRow).where(UserRow.login == "hank"))).password_hash
    assert now != old and not auth.passwords.needs_rehash(now)


async def test_failures_at_once_are_all_counted(world):
    _, auth, _, _ = world

    async def wrong():
        with pytest.raises(InvalidGrant):
            await auth.token("ivy", "not it at all")

    await asyncio.gather(*(wrong() for _ in range(5)))
    with pytest.raises(LoginLocked) as locked:
        await auth.token("ivy", "not it at all")
    assert locked.value.retry_after == 15 * 60
    assert timedelta(0) < timedelta(seconds=locked.value.retry_after)
