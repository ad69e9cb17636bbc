"""Service requests, the customer's side and the admin's review: one transaction per command,
the request row locked before it changes, its events staged in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders.adapters.events import to_contract
from orders.adapters.repository import OfferRepository, RequestHeader, RequestRepository
from orders.domain.pricing import Summary
from orders.domain.requests import ServiceRequest, Transition
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.outbox import Outbox


@dataclass(frozen=True)
class RequestView:
    request: ServiceRequest
    summary: Summary


@dataclass(frozen=True)
class RequestFilter:
    status: str | None = None
    account_id: str | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None


class RequestService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox, clock: Clock) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.clock = clock

    # -- the customer's commands ---------------------------------------------------------
    async def create(
        self, actor: Principal, lines: Sequence[tuple[uuid.UUID, int]] = (), *, correlation_id: uuid.UUID | None = None
    ) -> RequestView:
        if len({item_id for item_id, _ in lines}) != len(lines):
            raise InvalidInput("each item appears once in lines", field="lines")
        now = self.clock.now()
        request = ServiceRequest.create(actor.account_id, by=actor.account_id, now=now)
        async with self.sessions() as session, session.begin():
            offers = await OfferRepository(session).many(item_id for item_id, _ in lines)
            for i, (item_id, quantity) in enumerate(lines):
                request.set_line(item_id, quantity, offers, field=f"lines[{i}].item_id")
            return await self._save(session, request, correlation_id)

    async def set_line(
        self,
        actor: Principal,
        request_id: uuid.UUID,
        item_id: uuid.UUID,
        quantity: int,
        *,
        correlation_id: uuid.UUID | None = None,
    ) -> RequestView:
        async with self.sessions() as session, session.begin():
            request = await self._load(session, actor, request_id, own=True)
            offers = await OfferRepository(session).many([item_id, *(line.item_id for line in request.lines)])
            request.set_line(item_id, quantity, offers)
            return await self._save(session, request, correlation_id)

    async def remove_line(
        self, actor: Principal, request_id: uuid.UUID, item_id: uuid.UUID, *, correlation_id: uuid.UUID | None = None
    ) -> RequestView:
        async with self.sessions() as session, session.begin():
            request = await self._load(session, actor, request_id, own=True)
            request.remove_line(item_id)
            return await self._save(session, request, correlation_id)

    async def discard(
        self, actor: Principal, request_id: uuid.UUID, *, correlation_id: uuid.UUID | None = None
    ) -> RequestView:
        async with self.sessions() as session, session.begin():
            request = await self._load(session, actor, request_id, own=True)
            request.discard(by=actor.account_id, now=self.clock.now())
            return await self._save(session, request, correlation_id)

    async def submit(
        self, actor: Principal, request_id: uuid.UUID, *, correlation_id: uuid.UUID | None = None
    ) -> RequestView:
        async with self.sessions() as session, session.begin():
            request = await self._load(session, actor, request_id, own=True)
            offers = await OfferRepository(session).many(line.item_id for line in request.lines)
            request.submit(offers, by=actor.account_id, now=self.clock.now())
            return await self._save(session, request, correlation_id)

    async def answer(
        self, actor: Principal, request_id: uuid.UUID, answer: str, *, correlation_id: uuid.UUID | None = None
    ) -> RequestView:
        async with self.sessions() as session, session.begin():
            request = await self._load(session, actor, request_id, own=True)
            request.answer(answer, by=actor.account_id, now=self.clock.now())
            return await self._save(session, request, correlation_id)

    # -- the admin's review ----------------------------------------------------------------
    async def approve(
        self, admin: Principal, request_id: uuid.UUID, *, correlation_id: uuid.UUID | None = None
    ) -> RequestView:
        async with self.sessions() as session, session.begin():
            request = await self._load(session, admin, request_id)
            request.approve(by=admin.account_id, now=self.clock.now())
            return await self._save(session, request, correlation_id)

    async def reject(
        self, admin: Principal, request_id: uuid.UUID, reason: str, *, correlation_id: uuid.UUID | None = None
    ) -> RequestView:
        async with self.sessions() as session, session.begin():
            request = await self._load(session, admin, request_id)
            request.reject(reason, by=admin.account_id, now=self.clock.now())
            return await self._save(session, request, correlation_id)

    async def ask(
        self, admin: Principal, request_id: uuid.UUID, question: str, *, correlation_id: uuid.UUID | None = None
    ) -> RequestView:
        async with self.sessions() as session, session.begin():
            request = await self._load(session, admin, request_id)
            request.ask(question, by=admin.account_id, now=self.clock.now())
            return await self._save(session, request, correlation_id)

    # -- reads -----------------------------------------------------------------------------
    async def get(self, actor: Principal, request_id: uuid.UUID) -> RequestView:
        async with self.sessions() as session:
            request = await self._load(session, actor, request_id, lock=False)
            return await self._view(session, request)

    async def history(self, actor: Principal, request_id: uuid.UUID) -> list[Transition]:
        async with self.sessions() as session:
            await self._load(session, actor, request_id, lock=False)
            return await RequestRepository(session).history(request_id)

    async def list_own(self, actor: Principal, *, limit: int, offset: int) -> tuple[list[RequestHeader], int]:
        async with self.sessions() as session:
            return await RequestRepository(session).page(account_id=actor.account_id, limit=limit, offset=offset)

    async def list_all(self, f: RequestFilter, *, limit: int, offset: int) -> tuple[list[RequestHeader], int]:
        if f.submitted_from and f.submitted_to and f.submitted_from > f.submitted_to:
            raise InvalidInput("submitted_from is after submitted_to", field="submitted_from")
        async with self.sessions() as session:
            return await RequestRepository(session).page(
                account_id=f.account_id,
                status=f.status,
                submitted_from=f.submitted_from,
                submitted_to=f.submitted_to,
                limit=limit,
                offset=offset,
            )

    # -- helpers ---------------------------------------------------------------------------
    async def _load(
        self, session: AsyncSession, actor: Principal, request_id: uuid.UUID, *, own: bool = False, lock: bool = True
    ) -> ServiceRequest:
        """The request, locked; another account's answers like an absent one. `own`: only its
        account may act (an admin too acts on requests of its own account only)."""
        request = await RequestRepository(session).get(request_id, for_update=lock)
        if request is None or not request.visible_to(actor.account_id, is_admin=actor.is_admin and not own):
            raise NotFound(f"no request {request_id}")
        return request

    async def _save(
        self, session: AsyncSession, request: ServiceRequest, correlation_id: uuid.UUID | None
    ) -> RequestView:
        await RequestRepository(session).save(request)
        for step in request.changes:
            event = to_contract(request, step)
            if event is not None:
                self.outbox.stage(session, event, correlation_id=correlation_id)
        request.changes.clear()
        return await self._view(session, request)

    async def _view(self, session: AsyncSession, request: ServiceRequest) -> RequestView:
        offers = await OfferRepository(session).many(line.item_id for line in request.lines)
        return RequestView(request, request.summary(offers))
