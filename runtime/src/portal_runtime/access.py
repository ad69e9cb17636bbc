"""Which tokens of the portal's own issuer (orders' `POST /v1/auth/token`, `iss` = LOCAL_ISSUER) a
service still takes: every service keeps `user_access`, one row per (account, login), from orders'
`UserAccessChanged` (registered by the runtime for every service), and refuses such a token when
the row says the user is disabled or the token was issued before the user's password changed.
Tokens of another issuer (`./portal token`, an identity provider) are not looked up; nor is a
login without a row (it never changed), so a service that has not heard of a user yet takes it.

Orders writes its own row in the transaction of each change, so orders refuses at once; the other
services once the event reaches them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
from litestar.exceptions import NotAuthorizedException
from sqlalchemy import Boolean, DateTime, String, Uuid, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from portal_contracts.events.orders import UserAccessChanged
from portal_runtime.db import RuntimeBase

LOCAL_ISSUER = "portal-orders"


class UserAccessRecord(RuntimeBase):
    """As `portal_runtime.migrations.create_user_access_table` makes it."""

    __tablename__ = "user_access"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    login: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    active: Mapped[bool] = mapped_column(Boolean())
    tokens_valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


async def apply_access(
    session: AsyncSession,
    *,
    account_id: str,
    login: str,
    user_id: uuid.UUID,
    active: bool,
    tokens_valid_from: datetime,
    changed_at: datetime,
) -> bool:
    """Upsert the row of (account_id, login); an older `changed_at` than the row's changes nothing,
    so a change arriving late is harmless, and the same change applied twice writes the same row.
    The same `changed_at` is written (the later of two changes at one instant, e.g. on a frozen test
    clock, arrives later: one user's events share a partition). True when the row was written."""
    values = {
        "account_id": account_id,
        "login": login,
        "user_id": user_id,
        "active": active,
        "tokens_valid_from": tokens_valid_from,
        "changed_at": changed_at,
    }
    stmt = insert(UserAccessRecord).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[UserAccessRecord.account_id, UserAccessRecord.login],
        set_={k: stmt.excluded[k] for k in ("user_id", "active", "tokens_valid_from", "changed_at")},
        where=UserAccessRecord.changed_at <= stmt.excluded.changed_at,
    ).returning(UserAccessRecord.login)
    return (await session.execute(stmt)).first() is not None


async def apply_access_changed(session: AsyncSession, event: UserAccessChanged) -> bool:
    return await apply_access(
        session,
        account_id=event.account_id,
        login=event.login,
        user_id=event.user_id,
        active=event.active,
        tokens_valid_from=event.tokens_valid_from,
        changed_at=event.changed_at,
    )


def register_access_consumer(consumer) -> None:
    """Every service applies UserAccessChanged to its `user_access` (ServiceRuntime calls this); a
    handler the service registered itself for the event runs after, in the same transaction."""
    key = (UserAccessChanged.event_type, UserAccessChanged.version)
    own = consumer.handlers.get(key)

    async def user_access_changed(incoming) -> None:
        await apply_access_changed(incoming.session, incoming.event)
        if own is not None:
            await own(incoming)

    consumer.handlers[key] = user_access_changed


class AccessCheck:
    """Called on every authenticated request with the checked token's claims: a token of
    LOCAL_ISSUER is refused (401 invalid_token) when its user's row says disabled, or the token's
    `iat` is before the row's `tokens_valid_from`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __call__(self, *, issuer: str | None, account_id: str, login: str, issued_at: datetime) -> None:
        if issuer != LOCAL_ISSUER:
            return
        async with self.sessions() as session:
            row = await session.scalar(
                select(UserAccessRecord).where(
                    UserAccessRecord.account_id == account_id, UserAccessRecord.login == login
                )
            )
        refuse(row, issued_at)


def refuse(row: UserAccessRecord | None, issued_at: datetime) -> None:
    if row is None:
        return
    if not row.active:
        raise NotAuthorizedException("the user is disabled")
    if issued_at < row.tokens_valid_from:
        raise NotAuthorizedException("the token was issued before the user's password changed")


def issue_local_token(
    secret: str,
    *,
    account_id: str,
    login: str,
    user_id: uuid.UUID,
    ttl: timedelta,
    now: datetime | None = None,
) -> str:
    """A token of LOCAL_ISSUER for a portal user: `iat` a float (microseconds), so a token issued
    right after a password change is told from one issued right before it."""
    now = now or datetime.now(UTC)
    claims = {
        "iss": LOCAL_ISSUER,
        "sub": login,
        "account": account_id,
        "role": "customer",
        "uid": str(user_id),
        "iat": now.timestamp(),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, "HS256")
