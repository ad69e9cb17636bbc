"""Client-area orders' invoices: one per order (OrderPlaced), due on the business date it is issued
on, or that many days later when the order names the account's payment terms
(`payment_terms_days`). When the order is cancelled (OrderCancelled) its invoice is voided unless
paid in full, and what was paid on it comes back in a credit note (`billing.domain.credit_notes`:
every line of a paid invoice, the payments received on a part-paid one), refunded or credited to
the account as the cancellation's `settlement` says (default credit), once per order however
often the cancellation is told. A refund is recorded against the payments (their method and
payer): billing makes no gateway payout, the business pays it out. The cancellation is kept
first, whatever billing has, so that events of the two kinds may come in any order (see
`billing.domain.orders`); a payment in flight at the cancellation holds it back until that
payment ends (`void_if_cancelled`)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from decimal import Decimal
from typing import Literal

from billing.domain.credit_notes import CreditNote, Reason, credit_note_number, for_cancelled_order
from billing.domain.invoices import Invoice, Line, SourceKind, Status
from billing.domain.orders import ORDER_SOURCES, VOIDED_BY, OrderCancellation
from billing.service.invoicing import Invoicing, IssueInvoice
from billing.service.ledger import spend_credit
from portal_runtime.clock import Clock, business_date
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InvoiceOrder:
    """Invoice an order: a cart's is due on the day it is placed (the business date), a renewal
    order's on the services' due date (`due_on`); with payment terms (`payment_terms_days`, the
    account's when the order was placed), that many days after the business date of issue (a
    renewal's not before its services' due date)."""

    order_id: uuid.UUID
    source: Literal["cart", "renewal", "quote", "reorder", "channel"]
    account_id: str
    currency: str
    lines: list[Line] = field(default_factory=list)
    total: Decimal | None = None
    due_on: date | None = None
    payment_terms_days: int | None = None
    number: str | None = None  # the order's (ORD-...), for the balance by order

    def due(self, today: date) -> date:
        """The invoice's due date when issued on `today` (the business date)."""
        due = self.due_on if self.source == "renewal" and self.due_on else today
        if self.payment_terms_days:
            due = max(due, today + timedelta(days=self.payment_terms_days))
        return due


def order_of(invoice: Invoice) -> uuid.UUID | None:
    """The order an invoice is for, if it is an order's."""
    if invoice.source.kind not in ORDER_SOURCES:
        return None
    try:
        return uuid.UUID(invoice.source.id)
    except ValueError:
        return None


async def void_if_cancelled(uow, invoice: Invoice, clock: Clock) -> None:
    """Settle an order's invoice whose order was cancelled, once no payment in flight holds it
    back (`settle_cancelled`). Called when an invoice is issued and when a payment ends."""
    order_id = order_of(invoice)
    if order_id is None or invoice.reservations:
        return
    cancellation = await uow.cancellations.get(order_id)
    if cancellation is not None:
        await settle_cancelled(uow, invoice, cancellation, clock)


async def settle_cancelled(uow, invoice: Invoice, cancellation: OrderCancellation, clock: Clock) -> CreditNote | None:
    """The cancelled order's invoice: voided unless paid in full (or voided already), and what was
    paid on it credited back, once per order (the credit note found by its cause, else numbered
    from its own series and added). The credit note added now, or None."""
    paid_in_full = invoice.status is Status.PAID
    if invoice.voidable:
        invoice.void(reason=cancellation.reason, by=VOIDED_BY, now=clock.now())
    cause = str(cancellation.order_id)
    if invoice.amount_paid <= 0 or await uow.credit_notes.for_cause(Reason.CANCELLED_ORDER, cause) is not None:
        return None
    now = clock.now()
    note = for_cancelled_order(
        invoice,
        order_id=cancellation.order_id,
        number=credit_note_number(now.year, await uow.credit_notes.next_sequence(now.year)),
        settlement=cancellation.settlement,
        paid_in_full=paid_in_full,
        by=VOIDED_BY,
        now=now,
        note=cancellation.note,
    )
    log.info(
        "order %s cancelled after %s %s was paid on invoice %s: credit note %s (%s)",
        cancellation.order_id,
        invoice.amount_paid,
        invoice.currency,
        invoice.number,
        note.number,
        note.settlement,
    )
    return uow.credit_notes.add(note)


class OrderInvoicing:
    def __init__(self, uow: UnitsOfWork, clock: Clock, invoicing: Invoicing, tz: tzinfo) -> None:
        self.uow = uow
        self.clock = clock
        self.invoicing = invoicing
        self.tz = tz

    async def invoice_order(self, cmd: InvoiceOrder) -> Invoice | None:
        """The order's invoice (None when it has one already), voided at once when the order was
        cancelled before."""
        renewal = cmd.source == "renewal"
        issue = IssueInvoice(
            source_kind=SourceKind.RENEWAL if renewal else SourceKind.ORDER,
            source_id=str(cmd.order_id),
            account_id=cmd.account_id,
            currency=cmd.currency,
            lines=cmd.lines,
            expected_total=cmd.total,
            due_on=cmd.due(business_date(self.clock.now(), self.tz)),
        )
        async with self.uow() as uow:
            if cmd.number:
                await uow.ledger.remember_order_number(cmd.order_id, cmd.number)
            invoice = await self.invoicing.issue_in(uow, issue)
            if invoice is not None:
                await void_if_cancelled(uow, invoice, self.clock)
                await spend_credit(uow, invoice, self.clock)  # the account's credit pays it (not a voided one)
            await uow.commit()
        return invoice

    async def cancel_order(self, cancellation: OrderCancellation) -> Invoice | None:
        """Keep the cancellation; void the order's invoice unless it is paid in full (logged) or
        voided already, and credit what was paid on it (`settle_cancelled`), unless a payment is
        in flight (settled when that payment ends). The invoice this voided, or None."""
        async with self.uow() as uow:
            await uow.cancellations.record(cancellation)
            invoice_id = await uow.invoices.for_order(cancellation.order_id)
            invoice = None if invoice_id is None else await uow.invoices.get(invoice_id, for_update=True)
            voided = None
            if invoice is None:
                log.info("order %s cancelled before its invoice: voided when issued", cancellation.order_id)
            elif invoice.reservations:
                log.info(
                    "order %s cancelled while a payment of invoice %s is in flight: voided when it ends",
                    cancellation.order_id,
                    invoice.number,
                )
            else:
                if invoice.status is Status.PAID:
                    log.info(
                        "order %s cancelled, but its invoice %s is paid: not voided, credited",
                        cancellation.order_id,
                        invoice.number,
                    )
                voidable = invoice.voidable  # else paid, or voided already (the cancellation told again)
                await settle_cancelled(uow, invoice, cancellation, self.clock)
                voided = invoice if voidable else None
            await uow.commit()
        return voided
