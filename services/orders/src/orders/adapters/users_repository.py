"""Loading and storing users inside orders' unit of work, with their set-password links, the failed
logins per login, and orders' own `user_access` row (written in the transaction of each change)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from orders.adapters.repository import _History, _transition
from orders.adapters.users_tables import LoginFailureRow, UserHistoryRow, UserInvitationRow, UserRow
from orders.domain import users as domain
from orders.domain.users import User, UserStatus
from portal_runtime.access import apply_access
from portal_runtime.errors import Conflict
from portal_runtime.lifecycle import Transition
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitOfWork

_COLUMNS = (
    "id",
    "account_id",
    "login",
    "name",
    "email",
    "language",
    "account_role",
    "phone",
    "password_hash",
    "tokens_valid_from",
    "created_at",
    "created_by",
)


class UserRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._history = _History(self.session, UserHistoryRow, "user_id")
        self._new: set[uuid.UUID] = set()

    # -- users ---------------------------------------------------------------------------
    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        return await self._one(select(UserRow).where(UserRow.id == user_id), for_update)

    async def by_login(self, login: str, *, for_update: bool = False) -> User | None:
        return await self._one(select(UserRow).where(UserRow.login == login.lower()), for_update)

    async def _one(self, stmt, for_update: bool) -> User | None:
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        user = User(**{c: getattr(row, c) for c in _COLUMNS}, status=UserStatus(row.status))
        self._history.loaded(user.id, 0)  # history() reads the stored rows; new ones are appended
        return self.uow.track(user, self)

    def add(self, user: User) -> User:
        self._new.add(user.id)
        return self.uow.track(user, self)

    async def save(self, user: User) -> None:
        if user.id in self._new:
            self._new.discard(user.id)
            if await self.session.scalar(select(UserRow.id).where(UserRow.login == user.login)) is not None:
                raise Conflict(f"login {user.login} is taken", field="login")
            row = UserRow(id=user.id)
            self._fill(row, user)
            self.session.add(row)
            try:
                async with self.session.begin_nested():
                    await self.session.flush()
            except IntegrityError:  # the same login created at the same moment
                raise Conflict(f"login {user.login} is taken", field="login") from None
        else:
            row = await self.session.get(UserRow, user.id)
            self._fill(row, user)
        self._history.append(user.id, user.history)
        for event in user.events:  # orders' own copy of which tokens it takes, in this transaction
            if isinstance(event, domain.UserAccessChanged):
                await apply_access(
                    self.session,
                    account_id=event.account_id,
                    login=event.login,
                    user_id=event.user_id,
                    active=event.active,
                    tokens_valid_from=event.tokens_valid_from,
                    changed_at=event.at,
                )

    @staticmethod
    def _fill(row: UserRow, user: User) -> None:
        for c in _COLUMNS[1:]:
            setattr(row, c, getattr(user, c))
        row.status = str(user.status)

    async def of_account(self, account_id: str, page: PageRequest) -> Slice[User]:
        stmt = select(UserRow).where(UserRow.account_id == account_id).order_by(UserRow.login)
        rows, total = await fetch_page(self.session, stmt, page)
        users = [User(**{c: getattr(r, c) for c in _COLUMNS}, status=UserStatus(r.status)) for r in rows]
        return Slice(users, total, page.limit, page.offset)

    async def history(self, user_id: uuid.UUID) -> list[Transition]:
        stmt = select(UserHistoryRow).where(UserHistoryRow.user_id == user_id).order_by(UserHistoryRow.id)
        return [_transition(r, UserStatus) for r in await self.session.scalars(stmt)]

    # -- set-password links --------------------------------------------------------------
    async def put_invitation(self, user_id: uuid.UUID, token_hash: str, expires_at: datetime, now: datetime) -> None:
        """The user's one live link (an older one stops working)."""
        await self.session.execute(delete(UserInvitationRow).where(UserInvitationRow.user_id == user_id))
        self.session.add(
            UserInvitationRow(user_id=user_id, token_hash=token_hash, expires_at=expires_at, created_at=now)
        )
        await self.session.flush()

    async def invitation(self, token_hash: str) -> UserInvitationRow | None:
        stmt = select(UserInvitationRow).where(UserInvitationRow.token_hash == token_hash).with_for_update()
        return await self.session.scalar(stmt)

    async def drop_invitation(self, user_id: uuid.UUID) -> None:
        await self.session.execute(delete(UserInvitationRow).where(UserInvitationRow.user_id == user_id))

    async def invitation_of(self, user_id: uuid.UUID) -> UserInvitationRow | None:
        return await self.session.get(UserInvitationRow, user_id)

    # -- failed logins -------------------------------------------------------------------
    async def failures(self, login: str) -> LoginFailureRow | None:
        """The failures of `login`, locked for this transaction (a row is made first, so two
        attempts at once count one after the other)."""
        await self.session.execute(
            insert(LoginFailureRow)
            .values(login=login, failures=0, first_at=self.uow.now, locked_until=None)
            .on_conflict_do_nothing(index_elements=[LoginFailureRow.login])
        )
        stmt = select(LoginFailureRow).where(LoginFailureRow.login == login).with_for_update()
        return await self.session.scalar(stmt)

    async def forget_failures(self, login: str) -> None:
        await self.session.execute(delete(LoginFailureRow).where(LoginFailureRow.login == login))
