"""Loading and storing invoices, taking invoice numbers, and remembering first answers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.adapters.tables import IdempotencyKeyRow, InvoiceCounterRow, InvoiceLineRow, InvoiceRow, PaymentRow
from billing.domain.invoices import Instruction, Invoice, InvoiceSummary, Line, Payment
from billing.domain.payments import StoredAnswer

_PAYMENT_FIELDS = (
    "id",
    "method",
    "amount",
    "currency",
    "payer_reference",
    "paid_at",
    "recorded_by",
    "card_brand",
    "card_last4",
    "gateway_reference",
)

_SUMMARY_FIELDS = (
    "id",
    "number",
    "account_id",
    "request_id",
    "currency",
    "total",
    "amount_paid",
    "status",
    "issued_at",
    "due_on",
)


class InvoiceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- numbering ---------------------------------------------------------------------------
    async def next_sequence(self, year: int) -> int:
        """The next number of `year`'s series, inside the caller's transaction: the counter row
        stays locked until it commits, and a rollback gives the number back."""
        await self.session.execute(insert(InvoiceCounterRow).values(year=year, last_number=0).on_conflict_do_nothing())
        counter = await self.session.scalar(
            select(InvoiceCounterRow).where(InvoiceCounterRow.year == year).with_for_update()
        )
        counter.last_number += 1
        await self.session.flush()
        return counter.last_number

    # -- invoices ----------------------------------------------------------------------------
    async def for_request(self, request_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(select(InvoiceRow.id).where(InvoiceRow.request_id == request_id))

    async def get(self, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice | None:
        stmt = select(InvoiceRow).where(InvoiceRow.id == invoice_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        lines = await self.session.scalars(
            select(InvoiceLineRow).where(InvoiceLineRow.invoice_id == invoice_id).order_by(InvoiceLineRow.position)
        )
        payments = await self.session.scalars(
            select(PaymentRow).where(PaymentRow.invoice_id == invoice_id).order_by(PaymentRow.position)
        )
        return Invoice(
            id=row.id,
            number=row.number,
            account_id=row.account_id,
            request_id=row.request_id,
            currency=row.currency,
            issued_at=row.issued_at,
            due_on=row.due_on,
            lines=[
                Line(description=r.description, quantity=r.quantity, unit_price=r.unit_price, item_id=r.item_id)
                for r in lines
            ],
            instructions=[Instruction(i["method"], dict(i["details"])) for i in row.instructions],
            payments=[Payment(**{f: getattr(p, f) for f in _PAYMENT_FIELDS}) for p in payments],
        )

    async def add(self, invoice: Invoice, now: datetime) -> None:
        self.session.add(
            InvoiceRow(
                id=invoice.id,
                number=invoice.number,
                account_id=invoice.account_id,
                request_id=invoice.request_id,
                currency=invoice.currency,
                total=invoice.total,
                amount_paid=invoice.amount_paid,
                status=invoice.status,
                issued_at=invoice.issued_at,
                due_on=invoice.due_on,
                instructions=[{"method": i.method, "details": i.details} for i in invoice.instructions],
                updated_at=now,
            )
        )
        await self.session.flush()  # the invoice row before its lines (and the unique request_id now)
        for position, line in enumerate(invoice.lines, start=1):
            self.session.add(
                InvoiceLineRow(
                    invoice_id=invoice.id,
                    position=position,
                    item_id=line.item_id,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    line_total=line.line_total,
                )
            )

    async def add_payment(self, invoice: Invoice, payment: Payment, now: datetime) -> None:
        row = await self.session.get(InvoiceRow, invoice.id)
        row.amount_paid = invoice.amount_paid
        row.status = invoice.status
        row.updated_at = now
        position = next(i for i, p in enumerate(invoice.payments, start=1) if p.id == payment.id)
        self.session.add(
            PaymentRow(invoice_id=invoice.id, position=position, **{f: getattr(payment, f) for f in _PAYMENT_FIELDS})
        )

    async def page(
        self, *, account_id: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[InvoiceSummary], int]:
        stmt = select(InvoiceRow)
        if account_id is not None:
            stmt = stmt.where(InvoiceRow.account_id == account_id)
        if status is not None:
            stmt = stmt.where(InvoiceRow.status == status)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = await self.session.scalars(
            stmt.order_by(InvoiceRow.issued_at.desc(), InvoiceRow.number.desc()).limit(limit).offset(offset)
        )
        return [InvoiceSummary(**{f: getattr(r, f) for f in _SUMMARY_FIELDS}) for r in rows], total or 0

    # -- idempotency -------------------------------------------------------------------------
    async def stored_answer(self, account_id: str, key: str) -> StoredAnswer | None:
        row = await self.session.get(IdempotencyKeyRow, (account_id, key))
        return StoredAnswer(row.fingerprint, row.status_code, row.body) if row else None

    async def claim_key(
        self, account_id: str, key: str, fingerprint: str, invoice_id: uuid.UUID, now: datetime
    ) -> bool:
        """Take the key for this transaction. If another transaction holds it, wait for it to end:
        False then means the key has a committed first answer to read."""
        claimed = await self.session.scalar(
            insert(IdempotencyKeyRow)
            .values(
                account_id=account_id,
                key=key,
                fingerprint=fingerprint,
                invoice_id=invoice_id,
                status_code=0,
                body="",
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyKeyRow.key)
        )
        return claimed is not None

    async def store_answer(self, account_id: str, key: str, answer: StoredAnswer) -> None:
        await self.session.execute(
            update(IdempotencyKeyRow)
            .where(IdempotencyKeyRow.account_id == account_id, IdempotencyKeyRow.key == key)
            .values(status_code=answer.status_code, body=answer.body)
        )
