"""Use cases of returns: one unit of work each; an RMA's state, its history and its events
commit together. Scoping is here: another account's RMA reads as a missing one (404)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork
from returns.domain.rma import ReturnLine, Rma, Status


@dataclass
class RequestReturn:
    invoice_number: str
    lines: list[ReturnLine]


class ReturnsService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def request_return(self, actor: Principal, cmd: RequestReturn) -> Rma:
        """A return against one of the actor's own invoices."""
        async with self.uow() as uow:
            # The invoice row is the lock: requests against one invoice take turns, so two of
            # them cannot both claim the same remaining quantity.
            invoice = await uow.invoices.by_number(cmd.invoice_number, for_update=True)
            claimed = await uow.rmas.claimed(invoice.number) if invoice else {}
            rma = Rma.request(
                invoice=invoice,
                account_id=actor.account_id,
                by=actor.actor,
                invoice_number=cmd.invoice_number,
                lines=cmd.lines,
                claimed=claimed,
                now=self.clock.now(),
            )
            uow.rmas.add(rma)
            await uow.commit()
        return rma

    async def approve(self, rma_id: uuid.UUID, actor: Principal) -> Rma:
        async with self.uow() as uow:
            rma = await self._load(uow, rma_id, actor)
            rma.approve(by=actor.actor, now=self.clock.now())
            await uow.commit()
        return rma

    async def reject(self, rma_id: uuid.UUID, reason: str, actor: Principal) -> Rma:
        async with self.uow() as uow:
            rma = await self._load(uow, rma_id, actor)
            rma.reject(reason, by=actor.actor, now=self.clock.now())
            await uow.commit()
        return rma

    async def receive(self, rma_id: uuid.UUID, actor: Principal) -> Rma:
        async with self.uow() as uow:
            rma = await self._load(uow, rma_id, actor)
            rma.receive(by=actor.actor, now=self.clock.now())
            await uow.commit()
        return rma

    async def get_return(self, rma_id: uuid.UUID, actor: Principal) -> Rma:
        """One RMA with its history."""
        async with self.uow() as uow:
            return await self._load(uow, rma_id, actor, for_update=False)

    async def list_returns(
        self, actor: Principal, *, account_id: str | None = None, status: Status | None = None, page: PageRequest
    ) -> Slice[Rma]:
        scope = actor.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await uow.rmas.page(account_id=scope.account_id, status=status, page=page)

    @staticmethod
    async def _load(uow, rma_id: uuid.UUID, actor: Principal, *, for_update: bool = True) -> Rma:
        rma = await uow.rmas.get(rma_id, for_update=for_update)
        if rma is None or not actor.owns(rma.account_id):
            raise NotFound(f"no return {rma_id}")
        return rma
