"""Loading and storing support requests (with their messages and history) and companies' contact
details inside orders' unit of work."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select

from orders.adapters.repository import _History, _transition
from orders.adapters.support_tables import (
    SUPPORT_NUMBERS,
    CompanyHistoryRow,
    CompanyRow,
    SupportHistoryRow,
    SupportMessageRow,
    SupportRequestRow,
)
from orders.domain.support import Message, Sender, Side, Status, SupportRequest
from portal_runtime.auth import AccountScope
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitOfWork


class SupportRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._history = _History(self.session, SupportHistoryRow, "request_id")
        self._messages: dict[uuid.UUID, int] = {}  # messages stored per request

    async def next_number(self) -> str:
        return f"SR-{await self.session.scalar(select(SUPPORT_NUMBERS.next_value())):06d}"

    async def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> SupportRequest | None:
        stmt = select(SupportRequestRow).where(SupportRequestRow.id == request_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        return self.uow.track((await self._load([row], full=True))[0], self)

    async def page(
        self, scope: AccountScope, page: PageRequest, *, status: Status | None = None
    ) -> Slice[SupportRequest]:
        """Newest first, in the scope's account (every account when None)."""
        stmt = select(SupportRequestRow).order_by(SupportRequestRow.created_at.desc(), SupportRequestRow.id)
        if scope.account_id is not None:
            stmt = stmt.where(SupportRequestRow.account_id == scope.account_id)
        if status is not None:
            stmt = stmt.where(SupportRequestRow.status == str(status))
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice(await self._load(list(rows), full=False), total, page.limit, page.offset)

    async def _load(self, rows: list[SupportRequestRow], *, full: bool) -> list[SupportRequest]:
        ids = [r.id for r in rows]
        messages: dict[uuid.UUID, list[Message]] = {i: [] for i in ids}
        history: dict[uuid.UUID, list] = {i: [] for i in ids}
        if ids and full:
            stmt = select(SupportMessageRow).where(SupportMessageRow.request_id.in_(ids))
            for m in await self.session.scalars(stmt.order_by(SupportMessageRow.position)):
                messages[m.request_id].append(Message(Side(m.side), m.by, m.text, m.at))
            stmt = select(SupportHistoryRow).where(SupportHistoryRow.request_id.in_(ids))
            for h in await self.session.scalars(stmt.order_by(SupportHistoryRow.id)):
                history[h.request_id].append(_transition(h, Status))
        found = []
        for r in rows:
            request = SupportRequest(
                id=r.id,
                number=r.number,
                account_id=r.account_id,
                sender=Sender(r.sender_login, r.sender_name, r.sender_email, r.sender_language),
                subject=r.subject,
                order_id=r.order_id,
                status=Status(r.status),
                created_at=r.created_at,
                updated_at=r.updated_at,
                messages=messages[r.id],
                history=history[r.id],
            )
            if full:
                self._history.loaded(r.id, len(request.history))
                self._messages[r.id] = len(request.messages)
            found.append(request)
        return found

    def add(self, request: SupportRequest) -> SupportRequest:
        return self.uow.track(request, self)

    async def save(self, request: SupportRequest) -> None:
        row = await self.session.get(SupportRequestRow, request.id)
        if row is None:
            row = SupportRequestRow(
                id=request.id,
                number=request.number,
                account_id=request.account_id,
                subject=request.subject,
                order_id=request.order_id,
                sender_login=request.sender.login,
                sender_name=request.sender.name,
                sender_email=request.sender.email,
                sender_language=request.sender.language,
                created_at=request.created_at,
            )
            self.session.add(row)
        row.status, row.updated_at = str(request.status), request.updated_at
        await self.session.flush()
        stored = self._messages.get(request.id, 0)
        self.session.add_all(
            SupportMessageRow(request_id=request.id, position=i, side=str(m.side), by=m.by, text=m.text, at=m.at)
            for i, m in enumerate(request.messages[stored:], start=stored)
        )
        self._messages[request.id] = len(request.messages)
        self._history.append(request.id, request.history)
        await self.session.flush()


class CompanyRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.session = uow.session

    async def get(self, account_id: str) -> CompanyRow | None:
        return await self.session.get(CompanyRow, account_id)

    async def put(self, account_id: str, details: dict, *, by: str, at: datetime) -> CompanyRow:
        """Set the details (a history row for each change; the same details again change nothing)."""
        row = await self.session.get(CompanyRow, account_id, with_for_update=True)
        if row is not None and row.details == details:
            return row
        if row is None:
            row = CompanyRow(account_id=account_id)
            self.session.add(row)
        row.details, row.changed_at, row.changed_by = details, at, by
        self.session.add(CompanyHistoryRow(account_id=account_id, at=at, by=by, details=details))
        await self.session.flush()
        return row

    async def history(self, account_id: str) -> list[CompanyHistoryRow]:
        stmt = select(CompanyHistoryRow).where(CompanyHistoryRow.account_id == account_id)
        return list(await self.session.scalars(stmt.order_by(CompanyHistoryRow.id)))

    async def count(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(CompanyRow))
