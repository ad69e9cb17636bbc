"""Use cases of returns: one transaction each; an RMA's state, its history and its events
commit together."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.outbox import Outbox
from returns.adapters.events import to_contract
from returns.adapters.repository import InvoiceRepository, RmaRepository
from returns.domain.rma import ReturnLine, Rma, Transition


@dataclass
class RequestReturn:
    invoice_number: str
    lines: list[ReturnLine]


class ReturnsService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox, clock: Clock) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.clock = clock

    async def request_return(
        self, account_id: str, cmd: RequestReturn, *, correlation_id: uuid.UUID | None = None
    ) -> Rma:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            # The invoice row is the lock: requests against one invoice take turns, so two of
            # them cannot both claim the same remaining quantity.
            invoice = await InvoiceRepository(session).by_number(cmd.invoice_number, for_update=True)
            rmas = RmaRepository(session)
            claimed = await rmas.claimed(invoice.number) if invoice else {}
            rma = Rma.request(
                invoice=invoice,
                account_id=account_id,
                invoice_number=cmd.invoice_number,
                lines=cmd.lines,
                claimed=claimed,
                now=now,
            )
            await self._save(session, rmas, rma, correlation_id)
        return rma

    async def approve(self, rma_id: uuid.UUID, *, by: str, correlation_id: uuid.UUID | None = None) -> Rma:
        return await self._transition(rma_id, lambda rma, now: rma.approve(by=by, now=now), correlation_id)

    async def reject(self, rma_id: uuid.UUID, reason: str, *, by: str, correlation_id: uuid.UUID | None = None) -> Rma:
        return await self._transition(rma_id, lambda rma, now: rma.reject(reason, by=by, now=now), correlation_id)

    async def receive(self, rma_id: uuid.UUID, *, by: str, correlation_id: uuid.UUID | None = None) -> Rma:
        return await self._transition(rma_id, lambda rma, now: rma.receive(by=by, now=now), correlation_id)

    async def get_return(self, rma_id: uuid.UUID, *, account_id: str | None) -> tuple[Rma, list[Transition]]:
        """One RMA with its history; `account_id` None reads any (admin), else only that account's."""
        async with self.sessions() as session:
            rmas = RmaRepository(session)
            rma = await rmas.get(rma_id)
            if rma is None or (account_id is not None and rma.account_id != account_id):
                raise NotFound(f"no return {rma_id}")
            return rma, await rmas.history(rma_id)

    async def list_returns(
        self, *, account_id: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[Rma], int]:
        async with self.sessions() as session:
            return await RmaRepository(session).page(account_id=account_id, status=status, limit=limit, offset=offset)

    async def _transition(
        self, rma_id: uuid.UUID, change: Callable[[Rma, datetime], None], correlation_id: uuid.UUID | None
    ) -> Rma:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            rmas = RmaRepository(session)
            rma = await rmas.get(rma_id, for_update=True)
            if rma is None:
                raise NotFound(f"no return {rma_id}")
            change(rma, now)
            await self._save(session, rmas, rma, correlation_id)
        return rma

    async def _save(
        self, session: AsyncSession, rmas: RmaRepository, rma: Rma, correlation_id: uuid.UUID | None
    ) -> None:
        await rmas.save(rma)
        for change in rma.changes:
            if (payload := to_contract(rma, change)) is not None:
                self.outbox.stage(session, payload, correlation_id=correlation_id)
        rma.changes.clear()
