"""Loading and storing invoices and taking invoice numbers inside a unit of work (which tracks the
invoices it loads and adds, and saves them on commit); orders' cancellations and the runtime's
Idempotency-Keys beside them."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.credit_note_repository import AccountCredits, CreditNoteRepository
from billing.adapters.ledger_repository import AccountPayments, Ledger
from billing.adapters.plan_repository import PlanRepository
from billing.adapters.reconciliation_repository import StatementRepository
from billing.adapters.tables import (
    InvoiceCounterRow,
    InvoiceHistoryRow,
    InvoiceLineRow,
    InvoiceRow,
    OrderCancellationRow,
    PaymentReservationRow,
    PaymentRow,
)
from billing.adapters.units_repository import UnitPackageRepository, UnitPurchaseRepository, WalletRepository
from billing.domain.invoices import (
    BillTo,
    Instruction,
    Invoice,
    InvoiceSummary,
    Line,
    Payment,
    Reservation,
    Source,
    Status,
)
from billing.domain.orders import ORDER_SOURCES, OrderCancellation
from portal_runtime.idempotency import IdempotencyKeys
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitOfWork, repository

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
    "currency",
    "total",
    "amount_paid",
    "status",
    "issued_at",
    "due_on",
    "amount_credited",
)


def _source(row: InvoiceRow) -> Source:
    return Source(row.source_kind, row.source_id, row.period_start, row.period_end)


def _summary(row: InvoiceRow) -> InvoiceSummary:
    summary = {f: getattr(row, f) for f in _SUMMARY_FIELDS}
    return InvoiceSummary(**{**summary, "source": _source(row), "status": Status(row.status)})


class InvoiceRepository:
    """Invoices of one unit of work: what it loads or adds is tracked, and saved on commit."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    # -- numbering ---------------------------------------------------------------------------
    async def next_sequence(self, year: int) -> int:
        """The next number of `year`'s series, inside the unit of work's transaction: the counter
        row stays locked until it commits, and a rollback gives the number back."""
        await self.session.execute(insert(InvoiceCounterRow).values(year=year, last_number=0).on_conflict_do_nothing())
        counter = await self.session.scalar(
            select(InvoiceCounterRow).where(InvoiceCounterRow.year == year).with_for_update()
        )
        counter.last_number += 1
        await self.session.flush()
        return counter.last_number

    # -- invoices ----------------------------------------------------------------------------
    async def for_source(self, source: Source) -> uuid.UUID | None:
        """The invoice of this source (and period), if it has one."""
        return await self.session.scalar(
            select(InvoiceRow.id).where(
                InvoiceRow.source_kind == str(source.kind),
                InvoiceRow.source_id == source.id,
                InvoiceRow.period_start.is_not_distinct_from(source.period_start),
                InvoiceRow.period_end.is_not_distinct_from(source.period_end),
            )
        )

    async def for_request(self, request_id: uuid.UUID) -> uuid.UUID | None:
        return await self.for_source(Source.service_request(request_id))

    async def for_order(self, order_id: uuid.UUID) -> uuid.UUID | None:
        """The invoice of a client-area order, cart or renewal (one per order: `uq_invoices_order`)."""
        return await self.session.scalar(
            select(InvoiceRow.id).where(
                InvoiceRow.source_kind.in_(ORDER_SOURCES), InvoiceRow.source_id == str(order_id)
            )
        )

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
        invoice = Invoice(
            id=row.id,
            number=row.number,
            account_id=row.account_id,
            source=_source(row),
            currency=row.currency,
            issued_at=row.issued_at,
            due_on=row.due_on,
            lines=[
                Line(
                    description=r.description,
                    quantity=r.quantity,
                    unit_price=r.unit_price,
                    item_id=r.item_id,
                    sku=r.sku,
                    line_id=r.line_id,
                    tax_rate=r.tax_rate,
                    amount=r.line_total,
                    subscription_id=r.subscription_id,
                    period_start=r.period_start,
                    period_end=r.period_end,
                )
                for r in lines
            ],
            instructions=[Instruction(i["method"], dict(i["details"])) for i in row.instructions],
            payments=[Payment(**{f: getattr(p, f) for f in _PAYMENT_FIELDS}) for p in payments],
            reservations=[
                Reservation(id=r.id, amount=r.amount, method=r.method, reserved_at=r.reserved_at)
                for r in await self.session.scalars(
                    select(PaymentReservationRow)
                    .where(PaymentReservationRow.invoice_id == invoice_id)
                    .order_by(PaymentReservationRow.reserved_at, PaymentReservationRow.id)
                )
            ],
            status=Status(row.status),
            bill_to=BillTo(**row.bill_to) if row.bill_to else None,
            amount_credited=row.amount_credited,
        )
        return self.uow.track(invoice, self)

    def add(self, invoice: Invoice) -> Invoice:
        return self.uow.track(invoice, self)

    async def save(self, invoice: Invoice) -> None:
        """A new invoice with its lines; a known one with the payments it took, the amounts it
        holds for payments in flight (reservations) and the moves it made (history) since it was
        loaded."""
        row = await self.session.get(InvoiceRow, invoice.id)
        if row is None:
            await self._insert(invoice)
            await self.uow.ledger.record_invoice(invoice)  # the account ledger, in this transaction
            # Paid at once from the account's credit (`billing.service.ledger.spend_credit`): its payments too.
            await self._save_payments(invoice, await self.session.get(InvoiceRow, invoice.id))
        else:
            await self._save_reservations(invoice)
            await self._save_payments(invoice, row)
        for step in invoice.history:
            if step.to_status == Status.VOIDED:
                await self.uow.ledger.record_void(invoice, step.at)
        self._save_history(invoice)

    def _save_history(self, invoice: Invoice) -> None:
        for step in invoice.history:
            self.session.add(
                InvoiceHistoryRow(
                    invoice_id=invoice.id,
                    at=step.at,
                    by=step.by,
                    from_status=step.from_status,
                    to_status=step.to_status,
                    note=step.note,
                )
            )
        invoice.history.clear()  # stored: saved again (a second commit) they would be rows twice

    async def _save_payments(self, invoice: Invoice, row: InvoiceRow) -> None:
        """The new payments and the status: one UPDATE of the row (set after the SELECT, which
        would flush a change made before it)."""
        known = set(await self.session.scalars(select(PaymentRow.id).where(PaymentRow.invoice_id == invoice.id)))
        new = [(n, p) for n, p in enumerate(invoice.payments, start=1) if p.id not in known]
        if row.status != invoice.status or new or row.amount_credited != invoice.amount_credited:
            row.status = invoice.status
            row.amount_paid = invoice.amount_paid
            row.amount_credited = invoice.amount_credited  # a credit note's `applied` (returned goods)
            row.updated_at = self.uow.now
        for position, payment in new:
            self.session.add(
                PaymentRow(
                    invoice_id=invoice.id, position=position, **{f: getattr(payment, f) for f in _PAYMENT_FIELDS}
                )
            )
            await self.uow.ledger.record_payment(invoice, payment)

    async def _save_reservations(self, invoice: Invoice) -> None:
        held = {r.id for r in invoice.reservations}
        stored = set(
            await self.session.scalars(
                select(PaymentReservationRow.id).where(PaymentReservationRow.invoice_id == invoice.id)
            )
        )
        if stored - held:
            await self.session.execute(delete(PaymentReservationRow).where(PaymentReservationRow.id.in_(stored - held)))
        for r in invoice.reservations:
            if r.id not in stored:
                self.session.add(
                    PaymentReservationRow(
                        id=r.id, invoice_id=invoice.id, amount=r.amount, method=r.method, reserved_at=r.reserved_at
                    )
                )

    async def _insert(self, invoice: Invoice) -> None:
        self.session.add(
            InvoiceRow(
                id=invoice.id,
                number=invoice.number,
                account_id=invoice.account_id,
                source_kind=str(invoice.source.kind),
                source_id=invoice.source.id,
                period_start=invoice.source.period_start,
                period_end=invoice.source.period_end,
                currency=invoice.currency,
                total=invoice.total,
                amount_paid=invoice.amount_paid,
                amount_credited=invoice.amount_credited,
                status=invoice.status,
                issued_at=invoice.issued_at,
                due_on=invoice.due_on,
                instructions=[{"method": i.method, "details": i.details} for i in invoice.instructions],
                bill_to=asdict(invoice.bill_to) if invoice.bill_to else None,
                updated_at=self.uow.now,
            )
        )
        await self.session.flush()  # the invoice row before its lines (and its unique source now)
        for position, line in enumerate(invoice.lines, start=1):
            self.session.add(
                InvoiceLineRow(
                    invoice_id=invoice.id,
                    position=position,
                    line_id=line.line_id,
                    item_id=line.item_id,
                    sku=line.sku,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    line_total=line.line_total,
                    tax_rate=line.tax_rate,
                    tax_amount=line.tax_amount,
                    subscription_id=line.subscription_id,
                    period_start=line.period_start,
                    period_end=line.period_end,
                )
            )

    async def page(
        self, *, account_id: str | None, status: Status | None, page: PageRequest, source_kind: str | None = None
    ) -> Slice[InvoiceSummary]:
        stmt = select(InvoiceRow).order_by(InvoiceRow.issued_at.desc(), InvoiceRow.number.desc())
        if account_id is not None:
            stmt = stmt.where(InvoiceRow.account_id == account_id)
        if status is not None:
            stmt = stmt.where(InvoiceRow.status == status)
        if source_kind is not None:
            stmt = stmt.where(InvoiceRow.source_kind == source_kind)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice([_summary(r) for r in rows], total, page.limit, page.offset)


class OrderCancellations:
    """Orders' cancellations, one per order (a second telling of one changes nothing)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def record(self, cancellation: OrderCancellation) -> None:
        await self.session.execute(
            insert(OrderCancellationRow)
            .values(
                order_id=cancellation.order_id,
                account_id=cancellation.account_id,
                reason=cancellation.reason,
                cancelled_at=cancellation.cancelled_at,
                recorded_at=self.uow.now,
                number=cancellation.number,
                note=cancellation.note,
                settlement=cancellation.settlement,
                cancelled_by=cancellation.cancelled_by,
            )
            .on_conflict_do_nothing()
        )

    async def get(self, order_id: uuid.UUID) -> OrderCancellation | None:
        row = await self.session.get(OrderCancellationRow, order_id)
        if row is None:
            return None
        return OrderCancellation(
            row.order_id,
            row.account_id,
            row.reason,
            row.cancelled_at,
            number=row.number,
            note=row.note,
            settlement=row.settlement,
            cancelled_by=row.cancelled_by,
        )


class BillingUnitOfWork(UnitOfWork):
    invoices = repository(InvoiceRepository)
    cancellations = repository(OrderCancellations)
    idempotency = repository(IdempotencyKeys)
    wallets = repository(WalletRepository)
    unit_packages = repository(UnitPackageRepository)
    unit_purchases = repository(UnitPurchaseRepository)
    plans = repository(PlanRepository)
    credit_notes = repository(CreditNoteRepository)
    account_credits = repository(AccountCredits)
    ledger = repository(Ledger)
    account_payments = repository(AccountPayments)
    reconciliations = repository(StatementRepository)  # reconciliation statements
