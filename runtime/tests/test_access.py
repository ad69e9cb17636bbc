"""`user_access` on a real PostgreSQL: UserAccessChanged applied twice or late changes nothing (the
newest `changed_at` wins), and the check refuses a local-issuer token of a disabled user or one
issued before the password changed, allows the rest, and never looks up another issuer's tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from litestar.exceptions import NotAuthorizedException

from portal_contracts.events.orders import UserAccessChanged
from portal_runtime.access import (
    LOCAL_ISSUER,
    AccessCheck,
    UserAccessRecord,
    apply_access_changed,
    issue_local_token,
    register_access_consumer,
)
from portal_runtime.db import RuntimeBase, make_engine, make_sessionmaker

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
USER = uuid.uuid4()


def changed(active: bool, valid_from: datetime, at: datetime, reason: str = "disabled") -> UserAccessChanged:
    return UserAccessChanged(
        user_id=USER,
        account_id="acme",
        login="alice",
        active=active,
        tokens_valid_from=valid_from,
        reason=reason,
        changed_by="ops/admin",
        changed_at=at,
    )


@pytest.fixture
async def sessions(new_database):
    engine = make_engine(await new_database("access"))
    async with engine.begin() as conn:
        await conn.run_sync(RuntimeBase.metadata.create_all)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def row(sessions) -> UserAccessRecord | None:
    async with sessions() as s:
        return await s.get(UserAccessRecord, ("acme", "alice"))


async def apply(sessions, event: UserAccessChanged) -> bool:
    async with sessions() as s, s.begin():
        return await apply_access_changed(s, event)


async def test_applying_is_idempotent_and_an_older_change_is_ignored(sessions):
    disabled = changed(False, T0, T0 + timedelta(minutes=5))
    assert await apply(sessions, disabled) is True
    await apply(sessions, disabled)  # the same change again: the same row
    older = changed(True, T0 + timedelta(minutes=1), T0 + timedelta(minutes=1), "password_changed")
    assert await apply(sessions, older) is False  # arrives late: the newer one stays
    found = await row(sessions)
    assert (found.active, found.tokens_valid_from, found.changed_at) == (False, T0, T0 + timedelta(minutes=5))
    enabled = changed(True, T0, T0 + timedelta(minutes=9), "enabled")
    assert await apply(sessions, enabled) is True
    assert (await row(sessions)).active is True
    # two changes at one instant (a frozen clock): the later one, which arrives later, is kept
    assert await apply(sessions, changed(False, T0, T0 + timedelta(minutes=9))) is True
    assert (await row(sessions)).active is False


async def test_the_check_refuses_disabled_users_and_tokens_from_before_a_password_change(sessions):
    check = AccessCheck(sessions)
    # no row: never changed, taken
    await check(issuer=LOCAL_ISSUER, account_id="acme", login="alice", issued_at=T0)
    await apply(sessions, changed(True, T0 + timedelta(seconds=1, microseconds=5), T0, "password_changed"))
    with pytest.raises(NotAuthorizedException, match="issued before the user's password changed"):
        await check(issuer=LOCAL_ISSUER, account_id="acme", login="alice", issued_at=T0 + timedelta(seconds=1))
    await check(  # the same microsecond, or later: taken
        issuer=LOCAL_ISSUER, account_id="acme", login="alice", issued_at=T0 + timedelta(seconds=1, microseconds=5)
    )
    await check(issuer=None, account_id="acme", login="alice", issued_at=T0)  # ./portal token: not looked up
    await apply(sessions, changed(False, T0, T0 + timedelta(minutes=1)))
    with pytest.raises(NotAuthorizedException, match="the user is disabled"):
        await check(issuer=LOCAL_ISSUER, account_id="acme", login="alice", issued_at=T0 + timedelta(hours=1))
    await check(issuer="https://idp.example", account_id="acme", login="alice", issued_at=T0)
    await check(issuer=LOCAL_ISSUER, account_id="globex", login="alice", issued_at=T0)  # another account's alice


def test_a_local_token_has_the_issuer_and_a_float_iat():
    at = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)
    token = issue_local_token("s" * 40, account_id="acme", login="alice", user_id=USER, ttl=timedelta(hours=1), now=at)
    claims = jwt.decode(token, "s" * 40, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
    assert claims["iss"] == LOCAL_ISSUER and claims["sub"] == "alice" and claims["uid"] == str(USER)
    assert claims["role"] == "customer" and claims["account"] == "acme"
    assert datetime.fromtimestamp(claims["iat"], UTC) == at


def test_every_service_consumer_gets_the_handler_and_keeps_its_own():
    class Consumer:
        handlers: dict = {}

    seen = []
    consumer = Consumer()
    consumer.handlers = {("UserAccessChanged", 1): lambda incoming: seen.append(incoming)}
    register_access_consumer(consumer)
    assert set(consumer.handlers) == {("UserAccessChanged", 1)}
    assert consumer.handlers[("UserAccessChanged", 1)].__name__ == "user_access_changed"
