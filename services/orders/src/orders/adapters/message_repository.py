"""Loading and storing order threads' messages and orders' invoice documents inside orders' unit
of work."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from orders.adapters.message_tables import InvoiceDocumentRow, OrderMessageRow
from orders.domain.messages import OrderMessage, Side
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitOfWork


class MessageRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    def add(self, message: OrderMessage) -> OrderMessage:
        return self.uow.track(message, self)

    async def save(self, message: OrderMessage) -> None:
        """A new message takes the thread's next position (its use case holds the order row's lock)."""
        if await self.session.get(OrderMessageRow, message.id) is None:
            last = await self.session.scalar(
                select(func.max(OrderMessageRow.position)).where(OrderMessageRow.order_id == message.order_id)
            )
            self.session.add(
                OrderMessageRow(
                    id=message.id,
                    order_id=message.order_id,
                    position=0 if last is None else last + 1,
                    account_id=message.account_id,
                    side=str(message.side),
                    author=message.author,
                    author_name=message.author_name,
                    body=message.body,
                    posted_at=message.posted_at,
                )
            )
            await self.session.flush()

    async def thread(self, order_id: uuid.UUID, page: PageRequest) -> Slice[OrderMessage]:
        """The order's messages, oldest first."""
        stmt = select(OrderMessageRow).where(OrderMessageRow.order_id == order_id).order_by(OrderMessageRow.position)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice([_message(r) for r in rows], total, page.limit, page.offset)


def _message(r: OrderMessageRow) -> OrderMessage:
    return OrderMessage(r.id, r.order_id, r.account_id, Side(r.side), r.author, r.author_name, r.body, r.posted_at)


@dataclass(frozen=True)
class InvoiceDocument:
    """An order's invoice as billing issued it (`payload`: InvoiceIssued v2's data, JSON)."""

    invoice_id: uuid.UUID
    order_id: uuid.UUID
    number: str
    status: str  # issued | voided
    payload: dict
    issued_at: datetime
    amount_paid: Decimal | None
    credits: dict[str, str]  # by credit note id: what it took off what the invoice owed

    @property
    def credited(self) -> Decimal:
        return sum((Decimal(v) for v in self.credits.values()), Decimal("0.00"))


_DOCUMENT = ("invoice_id", "order_id", "number", "status", "payload", "issued_at", "amount_paid", "credits")


class InvoiceDocuments:
    """The read model billing's invoice events keep (no aggregate): every write is idempotent."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.session = uow.session

    async def issued(
        self, *, invoice_id: uuid.UUID, order_id: uuid.UUID, number: str, payload: dict, issued_at: datetime
    ) -> bool:
        """Keep the copy; False when it is kept already (the event seen again, or after its voiding)."""
        done = await self.session.scalar(
            insert(InvoiceDocumentRow)
            .values(
                invoice_id=invoice_id,
                order_id=order_id,
                number=number,
                status="issued",
                payload=payload,
                issued_at=issued_at,
            )
            .on_conflict_do_nothing()
            .returning(InvoiceDocumentRow.invoice_id)
        )
        return done is not None

    async def voided(self, invoice_id: uuid.UUID) -> bool:
        done = await self.session.execute(
            update(InvoiceDocumentRow)
            .where(InvoiceDocumentRow.invoice_id == invoice_id, InvoiceDocumentRow.status != "voided")
            .values(status="voided")
        )
        return done.rowcount > 0

    async def paid(self, invoice_id: uuid.UUID, amount_paid: Decimal) -> bool:
        """What billing says is paid on it so far; an older (smaller) figure arriving late changes nothing."""
        done = await self.session.execute(
            update(InvoiceDocumentRow)
            .where(
                InvoiceDocumentRow.invoice_id == invoice_id,
                func.coalesce(InvoiceDocumentRow.amount_paid, -1) < amount_paid,
            )
            .values(amount_paid=amount_paid)
        )
        return done.rowcount > 0

    async def credited(self, invoice_id: uuid.UUID, credit_note_id: uuid.UUID, applied: Decimal) -> bool:
        """A credit note took `applied` off what the invoice owed; once per credit note."""
        done = await self.session.execute(
            update(InvoiceDocumentRow)
            .where(
                InvoiceDocumentRow.invoice_id == invoice_id,
                ~InvoiceDocumentRow.credits.has_key(str(credit_note_id)),
            )
            .values(
                credits=InvoiceDocumentRow.credits.op("||")(func.jsonb_build_object(str(credit_note_id), str(applied)))
            )
        )
        return done.rowcount > 0

    async def of_orders(self, order_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[InvoiceDocument]]:
        """Each order's invoices, oldest first (an order without one: an empty list)."""
        ids = list(dict.fromkeys(order_ids))
        found: dict[uuid.UUID, list[InvoiceDocument]] = {i: [] for i in ids}
        if ids:
            rows = await self.session.scalars(
                select(InvoiceDocumentRow)
                .where(InvoiceDocumentRow.order_id.in_(ids))
                .order_by(InvoiceDocumentRow.issued_at, InvoiceDocumentRow.invoice_id)
            )
            for row in rows:
                found[row.order_id].append(InvoiceDocument(**{f: getattr(row, f) for f in _DOCUMENT}))
        return found
