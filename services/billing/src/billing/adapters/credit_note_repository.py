"""Credit notes and the accounts' credit inside a unit of work: a credit note is stored whole on
commit (with its lines, refunds and the account credit it adds) and never changed; the account
credit ledger answers balances."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.credit_note_tables import (
    AccountCreditRow,
    CreditNoteCounterRow,
    CreditNoteLineRow,
    CreditNoteRow,
    RefundRow,
)
from billing.adapters.tables import InvoiceRow
from billing.domain.credit_notes import (
    CreditBalance,
    CreditEntry,
    CreditLine,
    CreditNote,
    Reason,
    Refund,
    Settlement,
)
from billing.domain.invoices import Source
from billing.domain.orders import ORDER_SOURCES
from billing.domain.returned_goods import Credited
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import SqlRepository

_LINE_FIELDS = ("line_id", "invoice_line_id", "description", "quantity", "unit_price", "line_total", "tax_rate", "tax")
_REFUND_FIELDS = ("id", "payment_id", "method", "amount", "currency", "payer_reference", "refunded_at")


class CreditNoteRepository(SqlRepository):
    # -- numbering ---------------------------------------------------------------------------
    async def next_sequence(self, year: int) -> int:
        """The next number of `year`'s credit note series (the counter row locked until commit)."""
        await self.session.execute(
            insert(CreditNoteCounterRow).values(year=year, last_number=0).on_conflict_do_nothing()
        )
        counter = await self.session.scalar(
            select(CreditNoteCounterRow).where(CreditNoteCounterRow.year == year).with_for_update()
        )
        counter.last_number += 1
        await self.session.flush()
        return counter.last_number

    # -- credit notes ------------------------------------------------------------------------
    async def for_cause(self, reason: Reason, cause_id: str) -> uuid.UUID | None:
        return await self.session.scalar(
            select(CreditNoteRow.id).where(CreditNoteRow.reason == reason, CreditNoteRow.cause_id == cause_id)
        )

    async def credited_lines(self, invoice_id: uuid.UUID) -> dict[uuid.UUID, Credited]:
        """What the invoice's credit notes credited so far, per invoice line (quantity, net, tax)."""
        rows = await self.session.execute(
            select(
                CreditNoteLineRow.invoice_line_id,
                func.sum(CreditNoteLineRow.quantity),
                func.sum(CreditNoteLineRow.line_total),
                func.sum(CreditNoteLineRow.tax),
            )
            .join(CreditNoteRow, CreditNoteRow.id == CreditNoteLineRow.credit_note_id)
            .where(CreditNoteRow.invoice_id == invoice_id, CreditNoteLineRow.invoice_line_id.is_not(None))
            .group_by(CreditNoteLineRow.invoice_line_id)
        )
        return {line_id: Credited(int(q), Decimal(net), Decimal(tax)) for line_id, q, net, tax in rows.all()}

    async def returned_by_payment(self, invoice_id: uuid.UUID) -> dict[uuid.UUID, Decimal]:
        """What the invoice's credit notes refunded so far, per payment."""
        rows = await self.session.execute(
            select(RefundRow.payment_id, func.sum(RefundRow.amount))
            .join(CreditNoteRow, CreditNoteRow.id == RefundRow.credit_note_id)
            .where(CreditNoteRow.invoice_id == invoice_id, RefundRow.payment_id.is_not(None))
            .group_by(RefundRow.payment_id)
        )
        return {payment_id: Decimal(amount) for payment_id, amount in rows.all()}

    async def invoice_id_of(self, number: str) -> uuid.UUID | None:
        """The id of the invoice numbered `number` (an event that names the invoice by number only)."""
        return await self.session.scalar(select(InvoiceRow.id).where(InvoiceRow.number == number))

    async def get(self, credit_note_id: uuid.UUID) -> CreditNote | None:
        row = await self.session.get(CreditNoteRow, credit_note_id)
        if row is None:
            return None
        [note] = await self._load([row])
        return note

    def add(self, note: CreditNote) -> CreditNote:
        return self.uow.track(note, self)

    async def save(self, note: CreditNote) -> None:
        """A new credit note with its lines and refunds (a stored one never changes)."""
        if await self.session.get(CreditNoteRow, note.id) is not None:
            return
        self.session.add(
            CreditNoteRow(
                id=note.id,
                number=note.number,
                invoice_id=note.invoice_id,
                invoice_number=note.invoice_number,
                account_id=note.account_id,
                source_kind=str(note.source.kind),
                source_id=note.source.id,
                currency=note.currency,
                total=note.total,
                tax_total=note.tax_total,
                reason=note.reason,
                cause_id=note.cause_id,
                settlement=note.settlement,
                refunded=note.refunded,
                credited=note.credited,
                note=note.note,
                issued_at=note.issued_at,
                issued_by=note.issued_by,
                applied=note.applied,
                rma_id=note.rma_id,
                receipt_id=note.receipt_id,
                receipt_number=note.receipt_number,
            )
        )
        await self.session.flush()  # the note before its lines (and its unique cause now)
        for position, line in enumerate(note.lines, start=1):
            self.session.add(
                CreditNoteLineRow(
                    credit_note_id=note.id, position=position, **{f: getattr(line, f) for f in _LINE_FIELDS}
                )
            )
        for refund in note.refunds:
            self.session.add(RefundRow(credit_note_id=note.id, **{f: getattr(refund, f) for f in _REFUND_FIELDS}))
        entry = note.credit_entry()
        if entry is not None:  # what it credits is on the account from the same commit
            await AccountCredits(self.uow).add(entry)
        await self.uow.ledger.record_credit_note(note)  # the account ledger (HB1): its gross, and each refund

    async def page(
        self,
        *,
        account_id: str | None,
        invoice_id: uuid.UUID | None,
        order_id: uuid.UUID | None,
        page: PageRequest,
    ) -> Slice[CreditNote]:
        stmt = select(CreditNoteRow).order_by(CreditNoteRow.issued_at.desc(), CreditNoteRow.number.desc())
        if account_id is not None:
            stmt = stmt.where(CreditNoteRow.account_id == account_id)
        if invoice_id is not None:
            stmt = stmt.where(CreditNoteRow.invoice_id == invoice_id)
        if order_id is not None:
            stmt = stmt.where(CreditNoteRow.source_kind.in_(ORDER_SOURCES), CreditNoteRow.source_id == str(order_id))
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice(await self._load(rows), total, page.limit, page.offset)

    async def _load(self, rows: list[CreditNoteRow]) -> list[CreditNote]:
        """The notes of `rows` with their lines and refunds (two queries for the lot)."""
        ids = [r.id for r in rows]
        lines, refunds = defaultdict(list), defaultdict(list)
        if ids:
            for r in await self.session.scalars(
                select(CreditNoteLineRow)
                .where(CreditNoteLineRow.credit_note_id.in_(ids))
                .order_by(CreditNoteLineRow.credit_note_id, CreditNoteLineRow.position)
            ):
                lines[r.credit_note_id].append(CreditLine(**{f: getattr(r, f) for f in _LINE_FIELDS}))
            for r in await self.session.scalars(
                select(RefundRow).where(RefundRow.credit_note_id.in_(ids)).order_by(RefundRow.refunded_at, RefundRow.id)
            ):
                refunds[r.credit_note_id].append(Refund(**{f: getattr(r, f) for f in _REFUND_FIELDS}))
        return [
            CreditNote(
                id=r.id,
                number=r.number,
                invoice_id=r.invoice_id,
                invoice_number=r.invoice_number,
                account_id=r.account_id,
                source=Source(r.source_kind, r.source_id),
                currency=r.currency,
                lines=lines[r.id],
                reason=Reason(r.reason),
                cause_id=r.cause_id,
                settlement=Settlement(r.settlement),
                refunded=r.refunded,
                credited=r.credited,
                issued_at=r.issued_at,
                issued_by=r.issued_by,
                note=r.note,
                refunds=refunds[r.id],
                applied=r.applied,
                rma_id=r.rma_id,
                receipt_id=r.receipt_id,
                receipt_number=r.receipt_number,
            )
            for r in rows
        ]


class AccountCredits(SqlRepository):
    """The accounts' credit ledger: a credit note's entry is written once (`uq_account_credits_note`)."""

    async def add(self, entry: CreditEntry) -> None:
        await self.session.execute(
            insert(AccountCreditRow)
            .values(
                id=entry.id,
                account_id=entry.account_id,
                currency=entry.currency,
                amount=entry.amount,
                kind=entry.kind,
                credit_note_id=entry.credit_note_id,
                invoice_id=entry.invoice_id,
                at=entry.at,
            )
            .on_conflict_do_nothing()
        )

    async def balances(self, account_id: str) -> list[CreditBalance]:
        """The account's credit per currency it ever had credit in (alphabetical)."""
        rows = await self.session.execute(
            select(AccountCreditRow.currency, func.sum(AccountCreditRow.amount))
            .where(AccountCreditRow.account_id == account_id)
            .group_by(AccountCreditRow.currency)
            .order_by(AccountCreditRow.currency)
        )
        return [CreditBalance(currency, Decimal(amount)) for currency, amount in rows.all()]
