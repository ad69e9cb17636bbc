"""Use cases of returns: one unit of work each; an RMA's state, its history, its goods receipts and
its events commit together. Scoping is here: another account's RMA or goods receipt reads as a
missing one (404)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, timedelta, tzinfo

from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, business_date
from portal_runtime.errors import NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork
from returns.domain.rma import LIFECYCLE, RECEIVE, GoodsReceipt, ReceiptRequest, Resolution, ReturnLine, Rma, Status

EXPECTED_DAYS = 14


@dataclass
class RequestReturn:
    invoice_number: str
    lines: list[ReturnLine]
    problem: str | None = None


@dataclass
class Approve:
    resolution: Resolution | None = None  # None: refund
    expected_on: date | None = None  # None: today + the service's expected days
    note: str | None = None


class ReturnsService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, *, tz: tzinfo = UTC, expected_days: int = EXPECTED_DAYS) -> None:
        self.uow = uow
        self.clock = clock
        self.tz = tz
        self.expected_days = expected_days

    def today(self) -> date:
        return business_date(self.clock.now(), self.tz)

    async def request_return(self, actor: Principal, cmd: RequestReturn) -> Rma:
        """A return against one of the actor's own invoices."""
        async with self.uow() as uow:
            # The invoice row is the lock: requests against one invoice take turns, so two of
            # them cannot both claim the same remaining quantity.
            invoice = await uow.invoices.by_number(actor.account_id, cmd.invoice_number, for_update=True)
            mine = invoice is not None and invoice.belongs_to(actor.account_id)
            claimed = await uow.rmas.claimed(actor.account_id, invoice.number) if mine else {}
            shipped = await uow.shipped.of_order(invoice.order_id) if mine and invoice.order_id else None
            now = self.clock.now()
            # Taken before the checks: a refused request rolls back and gives the number back.
            number = await uow.rmas.next_number("RMA", business_date(now, self.tz).year) if mine else None
            rma = Rma.request(
                invoice=invoice,
                account_id=actor.account_id,
                by=actor.actor,
                invoice_number=cmd.invoice_number,
                lines=cmd.lines,
                claimed=claimed,
                shipped=shipped,
                problem=cmd.problem,
                number=number,
                now=now,
            )
            uow.rmas.add(rma)
            await uow.commit()
        return rma

    async def approve(self, rma_id: uuid.UUID, actor: Principal, cmd: Approve | None = None) -> Rma:
        cmd = cmd or Approve()
        today = self.today()
        async with self.uow() as uow:
            rma = await self._load(uow, rma_id, actor)
            rma.approve(
                by=actor.actor,
                now=self.clock.now(),
                today=today,
                resolution=cmd.resolution or Resolution.REFUND,
                expected_on=cmd.expected_on or today + timedelta(days=self.expected_days),
                note=cmd.note,
            )
            await uow.commit()
        return rma

    async def reject(self, rma_id: uuid.UUID, reason: str, actor: Principal) -> Rma:
        async with self.uow() as uow:
            rma = await self._load(uow, rma_id, actor)
            rma.reject(reason, by=actor.actor, now=self.clock.now())
            await uow.commit()
        return rma

    async def change_expected_date(
        self, rma_id: uuid.UUID, expected_on: date, actor: Principal, *, note: str | None = None
    ) -> Rma:
        async with self.uow() as uow:
            rma = await self._load(uow, rma_id, actor)
            rma.change_expected_date(expected_on, by=actor.actor, now=self.clock.now(), today=self.today(), note=note)
            await uow.commit()
        return rma

    async def record_receipt(
        self,
        rma_id: uuid.UUID,
        lines: Sequence[ReceiptRequest] | None,
        actor: Principal,
        *,
        note: str | None = None,
    ) -> tuple[Rma, GoodsReceipt]:
        """A goods receipt for an approved (or partly received) RMA; `lines` None: all that is still to
        come. The RMA row is locked, so two receipts at once never take more than was approved."""
        async with self.uow() as uow:
            rma = await self._load(uow, rma_id, actor)
            LIFECYCLE.target(rma.status, RECEIVE)  # a conflict before a number is taken
            now = self.clock.now()
            number = await uow.rmas.next_number("GR", business_date(now, self.tz).year)
            receipt = rma.receive(lines, receipt_id=uuid.uuid4(), number=number, by=actor.actor, now=now, note=note)
            await uow.commit()
        return rma, receipt

    async def receive(self, rma_id: uuid.UUID, actor: Principal) -> Rma:
        """Everything still to come arrived (one goods receipt)."""
        rma, _ = await self.record_receipt(rma_id, None, actor)
        return rma

    async def complete(self, rma_id: uuid.UUID, actor: Principal, *, note: str | None = None) -> Rma:
        async with self.uow() as uow:
            rma = await self._load(uow, rma_id, actor)
            rma.complete(by=actor.actor, now=self.clock.now(), note=note)
            await uow.commit()
        return rma

    async def close(self, rma_id: uuid.UUID, actor: Principal, *, note: str | None = None) -> Rma:
        async with self.uow() as uow:
            rma = await self._load(uow, rma_id, actor)
            rma.close(by=actor.actor, now=self.clock.now(), note=note)
            await uow.commit()
        return rma

    async def get_return(self, rma_id: uuid.UUID, actor: Principal) -> Rma:
        """One RMA with its history and receipts."""
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

    async def get_receipt(self, receipt_id: uuid.UUID, actor: Principal) -> GoodsReceipt:
        async with self.uow() as uow:
            receipt = await uow.receipts.get(receipt_id)
        if receipt is None or not actor.owns(receipt.account_id):
            raise NotFound(f"no goods receipt {receipt_id}")
        return receipt

    async def list_receipts(
        self, actor: Principal, *, account_id: str | None = None, page: PageRequest
    ) -> Slice[GoodsReceipt]:
        """Newest first: a customer's own; an admin's all, or one account's."""
        scope = actor.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await uow.receipts.page(account_id=scope.account_id, page=page)

    @staticmethod
    async def _load(uow, rma_id: uuid.UUID, actor: Principal, *, for_update: bool = True) -> Rma:
        rma = await uow.rmas.get(rma_id, for_update=for_update)
        if rma is None or not actor.owns(rma.account_id):
            raise NotFound(f"no return {rma_id}")
        return rma
