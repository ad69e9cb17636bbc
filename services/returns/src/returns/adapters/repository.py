"""Loading and storing returnable invoices and RMAs, inside a unit of work (which tracks what
they load and add, and saves it on commit)."""

from __future__ import annotations

import uuid

from sqlalchemy import String, cast, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from portal_runtime.lifecycle import Transition
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import SqlRepository, UnitOfWork, repository
from returns.adapters.tables import (
    GoodsReceiptRow,
    NumberCounterRow,
    ReturnableInvoiceRow,
    RmaHistoryRow,
    RmaLineRow,
    RmaRow,
    ShippedLineRow,
)
from returns.domain.invoices import InvoicedLine, ReturnableInvoice
from returns.domain.rma import GoodsReceipt, ReceiptLine, Resolution, ReturnLine, Rma, Status


class InvoiceRepository(SqlRepository):
    async def by_number(self, account_id: str, number: str, *, for_update: bool = False) -> ReturnableInvoice | None:
        """The account's invoice of that number (another account's reads as none)."""
        row = await self.one(
            select(ReturnableInvoiceRow).where(
                ReturnableInvoiceRow.account_id == account_id, ReturnableInvoiceRow.number == number
            ),
            for_update=for_update,
        )
        if row is None:
            return None
        return ReturnableInvoice(
            invoice_id=row.invoice_id,
            number=row.number,
            account_id=row.account_id,
            issued_at=row.issued_at,
            source_kind=row.source_kind,
            source_id=row.source_id,
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
            "source_kind": invoice.source_kind,
            "source_id": invoice.source_id,
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
        self._receipts: dict[uuid.UUID, int] = {}  # and of its goods receipts

    async def get(self, rma_id: uuid.UUID, *, for_update: bool = False) -> Rma | None:
        row = await self.one(select(RmaRow).where(RmaRow.id == rma_id), for_update=for_update)
        if row is None:
            return None
        [rma] = await self._load([row])
        self._stored[rma.id], self._receipts[rma.id] = len(rma.history), len(rma.receipts)
        return self.uow.track(rma, self)

    def add(self, rma: Rma) -> Rma:
        self._stored[rma.id], self._receipts[rma.id] = 0, 0
        return self.uow.track(rma, self)

    async def next_number(self, series: str, year: int) -> str:
        """`RMA-2026-000001` (series RMA) or `GR-2026-000001` (GR): the next of `year`'s gapless
        series (the counter stays locked until commit; a rollback gives the number back)."""
        await self.session.execute(
            insert(NumberCounterRow).values(series=series, year=year, last_number=0).on_conflict_do_nothing()
        )
        counter = await self.session.scalar(
            select(NumberCounterRow)
            .where(NumberCounterRow.series == series, NumberCounterRow.year == year)
            .with_for_update()
        )
        counter.last_number += 1
        await self.session.flush()
        return f"{series}-{year:04d}-{counter.last_number:06d}"

    async def save(self, rma: Rma) -> None:
        """Store the RMA and append the history rows it gained since it was loaded."""
        row = await self.session.get(RmaRow, rma.id)
        new = row is None
        if new:
            row = RmaRow(
                id=rma.id,
                account_id=rma.account_id,
                invoice_number=rma.invoice_number,
                requested_at=rma.requested_at,
                number=rma.number,
                invoice_id=rma.invoice_id,
                problem=rma.problem,
            )
            self.session.add(row)
        row.status, row.reject_reason, row.updated_at = rma.status, rma.reject_reason, rma.updated_at
        row.resolution, row.expected_on = rma.resolution, rma.expected_on
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
                    received=line.received,
                )
                for i, line in enumerate(rma.lines)
            )
        elif len(rma.receipts) > self._receipts.get(rma.id, 0):  # goods arrived: what each line received
            for i, line in enumerate(rma.lines):
                await self.session.execute(
                    update(RmaLineRow)
                    .where(RmaLineRow.rma_id == rma.id, RmaLineRow.position == i, RmaLineRow.received != line.received)
                    .values(received=line.received)
                )
        receipts = self._receipts.get(rma.id, 0)
        self.session.add_all(
            GoodsReceiptRow(
                id=r.id,
                number=r.number,
                rma_id=rma.id,
                account_id=rma.account_id,
                lines=[
                    {
                        "line_id": str(x.line_id) if x.line_id else None,
                        "description": x.description,
                        "quantity": x.quantity,
                    }
                    for x in r.lines
                ],
                note=r.note,
                received_at=r.received_at,
                received_by=r.received_by,
            )
            for r in rma.receipts[receipts:]
        )
        self._receipts[rma.id] = len(rma.receipts)
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

    async def claimed(self, account_id: str, invoice_number: str) -> dict[str, int]:
        """By line id (as text; by sku for lines without one), what the account's returns of the
        invoice that were not rejected (`Rma.claims`) add up to."""
        key = func.coalesce(cast(RmaLineRow.line_id, String), RmaLineRow.sku)
        stmt = (
            select(key, func.sum(RmaLineRow.quantity))
            .join(RmaRow, RmaRow.id == RmaLineRow.rma_id)
            .where(
                RmaRow.account_id == account_id,
                RmaRow.invoice_number == invoice_number,
                RmaRow.status != Status.REJECTED,
                RmaRow.reject_reason.is_(None),
            )
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
        receipts: dict[uuid.UUID, list[GoodsReceipt]] = {}
        numbers = {r.id: r.number for r in rows}
        for g in await self.session.scalars(
            select(GoodsReceiptRow)
            .where(GoodsReceiptRow.rma_id.in_(ids))
            .order_by(GoodsReceiptRow.received_at, GoodsReceiptRow.number)
        ):
            receipts.setdefault(g.rma_id, []).append(
                _receipt(
                    g, numbers[g.rma_id] or f"RMA-{g.rma_id}", next(r.invoice_number for r in rows if r.id == g.rma_id)
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
                number=r.number,
                invoice_id=r.invoice_id,
                problem=r.problem,
                resolution=Resolution(r.resolution) if r.resolution else None,
                expected_on=r.expected_on,
                lines=tuple(
                    ReturnLine(sku=x.sku, quantity=x.quantity, reason=x.reason, line_id=x.line_id, received=x.received)
                    for x in lines.get(r.id, [])
                ),
                history=history.get(r.id, []),
                receipts=receipts.get(r.id, []),
            )
            for r in rows
        ]


def _receipt(row: GoodsReceiptRow, rma_number: str, invoice_number: str) -> GoodsReceipt:
    return GoodsReceipt(
        id=row.id,
        number=row.number,
        rma_id=row.rma_id,
        rma_number=rma_number,
        account_id=row.account_id,
        invoice_number=invoice_number,
        lines=tuple(
            ReceiptLine(
                line_id=uuid.UUID(x["line_id"]) if x.get("line_id") else None,
                description=x["description"],
                quantity=x["quantity"],
            )
            for x in row.lines
        ),
        note=row.note,
        received_at=row.received_at,
        received_by=row.received_by,
    )


class ReceiptRepository(SqlRepository):
    """Goods receipts to read (they are written with their RMA, by RmaRepository.save)."""

    def _select(self):
        return select(GoodsReceiptRow, RmaRow.number, RmaRow.invoice_number).join(
            RmaRow, RmaRow.id == GoodsReceiptRow.rma_id
        )

    async def get(self, receipt_id: uuid.UUID) -> GoodsReceipt | None:
        found = (await self.session.execute(self._select().where(GoodsReceiptRow.id == receipt_id))).first()
        if found is None:
            return None
        row, number, invoice_number = found
        return _receipt(row, number or f"RMA-{row.rma_id}", invoice_number)

    async def page(self, *, account_id: str | None, page: PageRequest) -> Slice[GoodsReceipt]:
        """Newest first; `account_id` None is every account's."""
        stmt = self._select().order_by(GoodsReceiptRow.received_at.desc(), GoodsReceiptRow.number.desc())
        count = select(func.count()).select_from(GoodsReceiptRow)
        if account_id is not None:
            stmt = stmt.where(GoodsReceiptRow.account_id == account_id)
            count = count.where(GoodsReceiptRow.account_id == account_id)
        total = await self.session.scalar(count)
        rows = (await self.session.execute(stmt.limit(page.limit).offset(page.offset))).all()
        items = [_receipt(row, number or f"RMA-{row.rma_id}", invoice_number) for row, number, invoice_number in rows]
        return Slice(items, total, page.limit, page.offset)


class ShippedRepository(SqlRepository):
    async def record(self, order_id: uuid.UUID, shipped: dict[uuid.UUID, int]) -> None:
        """What has shipped of the order's lines: the highest count told wins, so a redelivery or an
        older shipment's event arriving late changes nothing."""
        if not shipped:
            return
        stmt = insert(ShippedLineRow).values(
            [
                {"order_id": order_id, "line_id": line_id, "shipped": count, "updated_at": self.uow.now}
                for line_id, count in shipped.items()
            ]
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["order_id", "line_id"],
                set_={
                    "shipped": func.greatest(ShippedLineRow.shipped, stmt.excluded.shipped),
                    "updated_at": stmt.excluded.updated_at,
                },
            )
        )

    async def of_order(self, order_id: uuid.UUID) -> dict[str, int]:
        """By order line id (as text), how many have shipped."""
        rows = await self.session.execute(
            select(ShippedLineRow.line_id, ShippedLineRow.shipped).where(ShippedLineRow.order_id == order_id)
        )
        return {str(line_id): shipped for line_id, shipped in rows}


class ReturnsUnitOfWork(UnitOfWork):
    invoices = repository(InvoiceRepository)
    rmas = repository(RmaRepository)
    receipts = repository(ReceiptRepository)
    shipped = repository(ShippedRepository)
