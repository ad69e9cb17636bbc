"""Where and in which language a portal user hears from us (e.g. a support request's sender)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.adapters.users_tables import UserRow


@dataclass(frozen=True)
class UserContact:
    login: str
    name: str
    email: str
    language: str


async def contact_of(session: AsyncSession, account_id: str, login: str) -> UserContact | None:
    """The contact of user `login` of `account_id`; None when it is no portal user of that account."""
    row = await session.scalar(select(UserRow).where(UserRow.account_id == account_id, UserRow.login == login.lower()))
    return None if row is None else UserContact(row.login, row.name, row.email, row.language)
