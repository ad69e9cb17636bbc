"""The account ledger and account payments inside a unit of work. Ledger rows are written in the
transaction of what they record (the invoice repository writes an invoice's, its payments' and its
void's; the credit note repository a credit note's and its refunds'), once per kind and document.
Dates are business dates in the unit of work's time zone (`timezone`, set from BUSINESS_TIMEZONE
by billing's bootstrap; UTC otherwise)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, tzinfo
from decimal import Decimal

from sqlalchemy import case, func, select, text
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.credit_note_tables import AccountCreditRow
from billing.adapters.ledger_tables import AccountPaymentRow, LedgerRow, OrderNumberRow
from billing.adapters.tables import InvoiceRow
from billing.domain.invoices import Invoice, Payment, Status
from billing.domain.ledger import ACCOUNT_CREDIT, AccountPayment, Allocation, LedgerEntry, LedgerKind
from portal_runtime.uow import SqlRepository

ZERO = Decimal(0)
OPEN = (Status.ISSUED.value, Status.PARTIALLY_PAID.value)
_FIELDS = (
    "id",
    "account_id",
    "currency",
    "on",
    "at",
    "kind",
    "document_id",
    "document_number",
    "description",
    "debit",
    "credit",
    "source_kind",
    "source_id",
)
# Rows of one day and instant: an invoice before what pays it; a void before the credit note of
# what was paid on it (the cancellation's order), a credit note before its refunds.
_KINDS_IN_ORDER = ("invoice", "payment", "advance_payment", "void", "credit_note", "refund")
_KIND_ORDER = case(
    {k: n for n, k in enumerate(_KINDS_IN_ORDER)},
    value=LedgerRow.kind,
    else_=len(LedgerKind),
)


class Ledger(SqlRepository):
    @property
    def tz(self) -> tzinfo:
        return getattr(self.uow, "timezone", None) or UTC

    # -- writing -----------------------------------------------------------------------------
    async def add(self, entry: LedgerEntry) -> None:
        """One row per kind and document (a second write of one does nothing); nothing for 0."""
        if entry.debit == 0 and entry.credit == 0:
            return
        await self.session.execute(
            insert(LedgerRow).values(**{f: getattr(entry, f) for f in _FIELDS}).on_conflict_do_nothing()
        )

    async def record_invoice(self, invoice: Invoice) -> None:
        await self.add(LedgerEntry.of_invoice(invoice, self.tz))

    async def record_payment(self, invoice: Invoice, payment: Payment) -> None:
        """A payment that moved money (none for one taken from the account's credit)."""
        if payment.method != ACCOUNT_CREDIT:
            await self.add(LedgerEntry.of_payment(invoice, payment, self.tz))

    async def record_void(self, invoice: Invoice, at) -> None:
        """What the voided invoice still owed, credited on the day it was voided."""
        await self.add(LedgerEntry.of_void(invoice, invoice.balance_due, at, self.tz))

    async def record_credit_note(self, note) -> None:
        """A credit note (`billing.domain.credit_notes.CreditNote`): its gross total, and a debit per refund."""
        await self.add(LedgerEntry.of_credit_note(note, self.tz))
        for refund in note.refunds:
            await self.record_refund(note, refund)

    async def record_refund(self, note, refund) -> None:
        await self.add(LedgerEntry.of_refund(note, refund, self.tz))

    async def remember_order_number(self, order_id: uuid.UUID, number: str) -> None:
        """An order's number, kept once (the balance by order names its orders)."""
        await self.session.execute(
            insert(OrderNumberRow).values(order_id=order_id, number=number).on_conflict_do_nothing()
        )

    async def order_numbers(self, order_ids: list[uuid.UUID]) -> dict[str, str]:
        if not order_ids:
            return {}
        rows = await self.session.execute(
            select(OrderNumberRow.order_id, OrderNumberRow.number).where(OrderNumberRow.order_id.in_(order_ids))
        )
        return {str(order_id): number for order_id, number in rows.all()}

    # -- reading -----------------------------------------------------------------------------
    async def balance(self, account_id: str, currency: str, *, before: date | None = None) -> Decimal:
        """Debits less credits of the account in `currency` (of the days before `before`, if named)."""
        stmt = select(func.coalesce(func.sum(LedgerRow.debit - LedgerRow.credit), 0)).where(
            LedgerRow.account_id == account_id, LedgerRow.currency == currency
        )
        if before is not None:
            stmt = stmt.where(LedgerRow.on < before)
        return Decimal(await self.session.scalar(stmt))

    async def entries(self, account_id: str, currency: str, start: date, end: date) -> list[LedgerEntry]:
        """The rows dated `start`..`end` (both included), in the order they happened."""
        rows = await self.session.scalars(
            select(LedgerRow)
            .where(
                LedgerRow.account_id == account_id,
                LedgerRow.currency == currency,
                LedgerRow.on >= start,
                LedgerRow.on <= end,
            )
            .order_by(LedgerRow.on, LedgerRow.at, _KIND_ORDER, LedgerRow.document_number, LedgerRow.id)
        )
        return [LedgerEntry(**{**{f: getattr(r, f) for f in _FIELDS}, "kind": LedgerKind(r.kind)}) for r in rows]

    # -- the account's credit ----------------------------------------------------------------
    async def lock_credit(self, account_id: str, currency: str) -> None:
        """Hold the account's credit in `currency` until commit: two spenders never both take it."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"billing.account_credit:{account_id}:{currency}"},
        )

    async def credit_of(self, account_id: str, currency: str) -> Decimal:
        return Decimal(
            await self.session.scalar(
                select(func.coalesce(func.sum(AccountCreditRow.amount), 0)).where(
                    AccountCreditRow.account_id == account_id, AccountCreditRow.currency == currency
                )
            )
        )

    async def open_invoice_ids(self, account_id: str, currency: str, *, exclude_kinds=()) -> list[uuid.UUID]:
        """The account's open invoices in `currency`, locked FOR UPDATE in number order."""
        stmt = (
            select(InvoiceRow.id)
            .where(
                InvoiceRow.account_id == account_id,
                InvoiceRow.currency == currency,
                InvoiceRow.status.in_(OPEN),
            )
            .order_by(InvoiceRow.number)
            .with_for_update()
        )
        if exclude_kinds:
            stmt = stmt.where(InvoiceRow.source_kind.not_in(exclude_kinds))
        return list(await self.session.scalars(stmt))


class AccountPayments(SqlRepository):
    """Account payments, stored once as recorded (with their allocations); never changed."""

    async def add(self, payment: AccountPayment) -> None:
        self.session.add(
            AccountPaymentRow(
                id=payment.id,
                account_id=payment.account_id,
                currency=payment.currency,
                amount=payment.amount,
                advance=payment.advance,
                method=payment.method,
                reference=payment.reference,
                received_on=payment.received_on,
                allocations=[
                    {
                        "invoice_id": str(a.invoice_id),
                        "invoice_number": a.invoice_number,
                        "amount": str(a.amount),
                        "payment_id": str(a.payment_id),
                    }
                    for a in payment.allocations
                ],
                recorded_at=payment.recorded_at,
                recorded_by=payment.recorded_by,
            )
        )
        await self.session.flush()

    async def get(self, payment_id: uuid.UUID) -> AccountPayment | None:
        row = await self.session.get(AccountPaymentRow, payment_id)
        if row is None:
            return None
        return AccountPayment(
            id=row.id,
            account_id=row.account_id,
            currency=row.currency,
            amount=row.amount,
            method=row.method,
            reference=row.reference,
            received_on=row.received_on,
            recorded_at=row.recorded_at,
            recorded_by=row.recorded_by,
            allocations=[
                Allocation(
                    invoice_id=uuid.UUID(a["invoice_id"]),
                    invoice_number=a["invoice_number"],
                    amount=Decimal(a["amount"]),
                    payment_id=uuid.UUID(a["payment_id"]),
                )
                for a in row.allocations
            ],
        )
