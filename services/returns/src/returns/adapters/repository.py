"""Loading and storing returnable invoices and RMAs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from returns.adapters.tables import ReturnableInvoiceRow, RmaHistoryRow, RmaLineRow, RmaRow
from returns.domain.invoices import InvoicedLine, ReturnableInvoice
from returns.domain.rma import CLAIMING, ReturnLine, Rma, Transition


class InvoiceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_number(self, number: str, *, for_update: bool = False) -> ReturnableInvoice | None:
        stmt = select(ReturnableInvoiceRow).where(ReturnableInvoiceRow.number == number)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        return ReturnableInvoice(
            invoice_id=row.invoice_id,
            number=row.number,
            account_id=row.account_id,
            issued_at=row.issued_at,
            lines=tuple(InvoicedLine(description=line["description"], quantity=line["quantity"]) for line in row.lines),
        )

    async def save(self, invoice: ReturnableInvoice, now: datetime) -> None:
        """Insert, or replace what an earlier delivery of the same invoice recorded."""
        values = {
            "number": invoice.number,
            "account_id": invoice.account_id,
            "issued_at": invoice.issued_at,
            "lines": [{"description": line.description, "quantity": line.quantity} for line in invoice.lines],
            "recorded_at": now,
        }
        stmt = insert(ReturnableInvoiceRow).values(invoice_id=invoice.invoice_id, **values)
        await self.session.execute(stmt.on_conflict_do_update(index_elements=["invoice_id"], set_=values))


def _to_domain(row: RmaRow, lines: list[RmaLineRow]) -> Rma:
    return Rma(
        id=row.id,
        account_id=row.account_id,
        invoice_number=row.invoice_number,
        status=row.status,
        reject_reason=row.reject_reason,
        requested_at=row.requested_at,
        updated_at=row.updated_at,
        lines=tuple(
            ReturnLine(sku=line.sku, quantity=line.quantity, reason=line.reason)
            for line in sorted(lines, key=lambda line: line.position)
        ),
    )


class RmaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, rma_id: uuid.UUID, *, for_update: bool = False) -> Rma | None:
        stmt = select(RmaRow).where(RmaRow.id == rma_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        return (await self._with_lines([row]))[0]

    async def save(self, rma: Rma) -> None:
        """Store the RMA and append its pending changes to its history (the caller clears them)."""
        row = await self.session.get(RmaRow, rma.id)
        new = row is None
        if new:
            row = RmaRow(
                id=rma.id, account_id=rma.account_id, invoice_number=rma.invoice_number, requested_at=rma.requested_at
            )
            self.session.add(row)
        row.status, row.reject_reason, row.updated_at = rma.status, rma.reject_reason, rma.updated_at
        await self.session.flush()  # the RMA first: its lines and history refer to it
        if new:
            self.session.add_all(
                RmaLineRow(rma_id=rma.id, position=i, sku=line.sku, quantity=line.quantity, reason=line.reason)
                for i, line in enumerate(rma.lines)
            )
        self.session.add_all(
            RmaHistoryRow(
                rma_id=rma.id, from_status=t.from_status, to_status=t.to_status, actor=t.by, reason=t.reason, at=t.at
            )
            for t in rma.changes
        )
        await self.session.flush()

    async def claimed(self, invoice_number: str) -> dict[str, int]:
        """By sku, what the invoice's returns that still hold goods (CLAIMING) add up to."""
        stmt = (
            select(RmaLineRow.sku, func.sum(RmaLineRow.quantity))
            .join(RmaRow, RmaRow.id == RmaLineRow.rma_id)
            .where(RmaRow.invoice_number == invoice_number, RmaRow.status.in_(CLAIMING))
            .group_by(RmaLineRow.sku)
        )
        return {sku: int(total) for sku, total in await self.session.execute(stmt)}

    async def history(self, rma_id: uuid.UUID) -> list[Transition]:
        rows = await self.session.scalars(
            select(RmaHistoryRow).where(RmaHistoryRow.rma_id == rma_id).order_by(RmaHistoryRow.id)
        )
        return [
            Transition(from_status=r.from_status, to_status=r.to_status, by=r.actor, at=r.at, reason=r.reason)
            for r in rows
        ]

    async def page(
        self, *, account_id: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[Rma], int]:
        stmt = select(RmaRow)
        if account_id is not None:
            stmt = stmt.where(RmaRow.account_id == account_id)
        if status:
            stmt = stmt.where(RmaRow.status == status)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = list(
            await self.session.scalars(stmt.order_by(RmaRow.requested_at.desc(), RmaRow.id).limit(limit).offset(offset))
        )
        return await self._with_lines(rows), total or 0

    async def _with_lines(self, rows: list[RmaRow]) -> list[Rma]:
        if not rows:
            return []
        lines = await self.session.scalars(select(RmaLineRow).where(RmaLineRow.rma_id.in_([r.id for r in rows])))
        by_rma: dict[uuid.UUID, list[RmaLineRow]] = {}
        for line in lines:
            by_rma.setdefault(line.rma_id, []).append(line)
        return [_to_domain(r, by_rma.get(r.id, [])) for r in rows]
