"""Loading and storing returnable invoices and RMAs, inside a unit of work (which tracks what
they load and add, and saves it on commit)."""

from __future__ import annotations

import uuid

from sqlalchemy import String, cast, func, select, text
from sqlalchemy.dialects.postgresql import insert

from portal_runtime.lifecycle import Transition
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import SqlRepository, UnitOfWork, repository
from returns.adapters.tables import ReturnableInvoiceRow, RmaHistoryRow, RmaLineRow, RmaRow
from returns.domain.invoices import InvoicedLine, ReturnableInvoice
from returns.domain.rma import CLAIMING, ReturnLine, Rma, Status


class InvoiceRepository(SqlRepository):
    async def by_number(self, number: str, *, for_update: bool = False) -> ReturnableInvoice | None:
        row = await self.one(
            select(ReturnableInvoiceRow).where(ReturnableInvoiceRow.number == number), for_update=for_update
        )
        if row is None:
            return None
        return ReturnableInvoice(
            invoice_id=row.invoice_id,
            number=row.number,
            account_id=row.account_id,
            issued_at=row.issued_at,
            lines=tuple(
                InvoicedLine(
                    description=line["description"],
                    quantity=line["quantity"],
                    line_id=uuid.UUID(line["line_id"]) if line.get("line_id") else None,
                    sku=line.get("sku"),
                )
                for line in row.lines
            ),
        )

    def add(self, invoice: ReturnableInvoice) -> ReturnableInvoice:
        return self.uow.track(invoice, self)

    async def save(self, invoice: ReturnableInvoice) -> None:
        """Insert, or replace what an earlier delivery of the same invoice recorded; a copy without
        line ids (InvoiceIssued v1) never replaces one with them (v2 of the same invoice)."""
        values = {
            "number": invoice.number,
            "account_id": invoice.account_id,
            "issued_at": invoice.issued_at,
            "lines": [
                {
                    "line_id": str(line.line_id) if line.line_id else None,
                    "description": line.description,
                    "sku": line.sku,
                    "quantity": line.quantity,
                }
                for line in invoice.lines
            ],
            "recorded_at": self.uow.now,
        }
        stmt = insert(ReturnableInvoiceRow).values(invoice_id=invoice.invoice_id, **values)
        keep_ids = None
        if not invoice.has_line_ids:
            keep_ids = text("NOT jsonb_path_exists(returnable_invoices.lines, '$[*].line_id ? (@ != null)')")
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["invoice_id"], set_=values, where=keep_ids)
        )


class RmaRepository(SqlRepository):
    def __init__(self, uow: UnitOfWork) -> None:
        super().__init__(uow)
        self._stored: dict[uuid.UUID, int] = {}  # by RMA: how many of its history rows are stored

    async def get(self, rma_id: uuid.UUID, *, for_update: bool = False) -> Rma | None:
        row = await self.one(select(RmaRow).where(RmaRow.id == rma_id), for_update=for_update)
        if row is None:
            return None
        [rma] = await self._load([row])
        self._stored[rma.id] = len(rma.history)
        return self.uow.track(rma, self)

    def add(self, rma: Rma) -> Rma:
        self._stored[rma.id] = 0
        return self.uow.track(rma, self)

    async def save(self, rma: Rma) -> None:
        """Store the RMA and append the history rows it gained since it was loaded."""
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
                RmaLineRow(
                    rma_id=rma.id,
                    position=i,
                    sku=line.sku,
                    line_id=line.line_id,
                    quantity=line.quantity,
                    reason=line.reason,
                )
                for i, line in enumerate(rma.lines)
            )
        stored = self._stored.get(rma.id, 0)
        self.session.add_all(
            # The columns keep their first names: `actor` is the step's `by`, `reason` its `note`.
            RmaHistoryRow(
                rma_id=rma.id, from_status=t.from_status, to_status=t.to_status, actor=t.by, reason=t.note, at=t.at
            )
            for t in rma.history[stored:]
        )
        self._stored[rma.id] = len(rma.history)
        await self.session.flush()

    async def claimed(self, invoice_number: str) -> dict[str, int]:
        """By line id (as text; by sku for lines without one), what the invoice's returns that
        still hold goods (CLAIMING) add up to."""
        key = func.coalesce(cast(RmaLineRow.line_id, String), RmaLineRow.sku)
        stmt = (
            select(key, func.sum(RmaLineRow.quantity))
            .join(RmaRow, RmaRow.id == RmaLineRow.rma_id)
            .where(RmaRow.invoice_number == invoice_number, RmaRow.status.in_(CLAIMING))
            .group_by(key)
        )
        return {sku: int(total) for sku, total in await self.session.execute(stmt)}

    async def page(self, *, account_id: str | None, status: Status | None, page: PageRequest) -> Slice[Rma]:
        """Newest first; `account_id` None is every account's."""
        stmt = select(RmaRow).order_by(RmaRow.requested_at.desc(), RmaRow.id)
        if account_id is not None:
            stmt = stmt.where(RmaRow.account_id == account_id)
        if status:
            stmt = stmt.where(RmaRow.status == status)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice(await self._load(rows), total, page.limit, page.offset)

    async def _load(self, rows: list[RmaRow]) -> list[Rma]:
        """The RMAs of `rows` with their lines and history (one query each for all of them)."""
        if not rows:
            return []
        ids = [r.id for r in rows]
        lines: dict[uuid.UUID, list[RmaLineRow]] = {}
        for line in await self.session.scalars(
            select(RmaLineRow).where(RmaLineRow.rma_id.in_(ids)).order_by(RmaLineRow.position)
        ):
            lines.setdefault(line.rma_id, []).append(line)
        history: dict[uuid.UUID, list[Transition[Status]]] = {}
        for h in await self.session.scalars(
            select(RmaHistoryRow).where(RmaHistoryRow.rma_id.in_(ids)).order_by(RmaHistoryRow.id)
        ):
            history.setdefault(h.rma_id, []).append(
                Transition(
                    at=h.at,
                    by=h.actor,
                    from_status=Status(h.from_status) if h.from_status else None,
                    to_status=Status(h.to_status),
                    note=h.reason,
                )
            )
        return [
            Rma(
                id=r.id,
                account_id=r.account_id,
                invoice_number=r.invoice_number,
                status=Status(r.status),
                reject_reason=r.reject_reason,
                requested_at=r.requested_at,
                updated_at=r.updated_at,
                lines=tuple(
                    ReturnLine(sku=x.sku, quantity=x.quantity, reason=x.reason, line_id=x.line_id)
                    for x in lines.get(r.id, [])
                ),
                history=history.get(r.id, []),
            )
            for r in rows
        ]


class ReturnsUnitOfWork(UnitOfWork):
    invoices = repository(InvoiceRepository)
    rmas = repository(RmaRepository)
