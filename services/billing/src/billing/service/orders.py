"""Client-area orders' invoices: one per order (OrderPlaced), voided when the order is cancelled
(OrderCancelled) unless paid in full. The cancellation is kept first, whatever billing has, so
that events of the two kinds may come in any order (see `billing.domain.orders`)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, tzinfo
from decimal import Decimal
from typing import Literal

from billing.domain.invoices import Invoice, Line, SourceKind, Status
from billing.domain.orders import ORDER_SOURCES, VOIDED_BY, OrderCancellation
from billing.service.invoicing import Invoicing, IssueInvoice
from portal_runtime.clock import Clock, business_date
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InvoiceOrder:
    """Invoice an order: a cart's is due on the day it is placed (the business date), a renewal
    order's on the services' due date (`due_on`)."""

    order_id: uuid.UUID
    source: Literal["cart", "renewal", "quote", "reorder", "channel"]
    account_id: str
    currency: str
    lines: list[Line] = field(default_factory=list)
    total: Decimal | None = None
    due_on: date | None = None


def order_of(invoice: Invoice) -> uuid.UUID | None:
    """The order an invoice is for, if it is an order's."""
    if invoice.source.kind not in ORDER_SOURCES:
        return None
    try:
        return uuid.UUID(invoice.source.id)
    except ValueError:
        return None


async def void_if_cancelled(uow, invoice: Invoice, clock: Clock) -> None:
    """Void an order's invoice whose order was cancelled, once nothing holds it back: not paid in
    full, no payment in flight. Called when an invoice is issued and when a payment ends."""
    order_id = order_of(invoice)
    if order_id is None or not invoice.voidable or invoice.reservations:
        return
    cancellation = await uow.cancellations.get(order_id)
    if cancellation is not None:
        invoice.void(reason=cancellation.reason, by=VOIDED_BY, now=clock.now())


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
            due_on=cmd.due_on if renewal and cmd.due_on else business_date(self.clock.now(), self.tz),
        )
        async with self.uow() as uow:
            invoice = await self.invoicing.issue_in(uow, issue)
            if invoice is not None:
                await void_if_cancelled(uow, invoice, self.clock)
            await uow.commit()
        return invoice

    async def cancel_order(self, cancellation: OrderCancellation) -> Invoice | None:
        """Keep the cancellation; void the order's invoice unless it is paid in full (logged, and
        nothing told), voided already, or has a payment in flight (voided when that payment ends).
        The invoice this voided, or None."""
        async with self.uow() as uow:
            await uow.cancellations.record(cancellation)
            invoice_id = await uow.invoices.for_order(cancellation.order_id)
            invoice = None if invoice_id is None else await uow.invoices.get(invoice_id, for_update=True)
            voided = None
            if invoice is None:
                log.info("order %s cancelled before its invoice: voided when issued", cancellation.order_id)
            elif invoice.status is Status.PAID:
                log.info(
                    "order %s cancelled, but its invoice %s is paid: not voided", cancellation.order_id, invoice.number
                )
            elif invoice.reservations:
                log.info(
                    "order %s cancelled while a payment of invoice %s is in flight: voided when it ends",
                    cancellation.order_id,
                    invoice.number,
                )
            elif invoice.voidable:  # else voided already (the cancellation told again)
                invoice.void(reason=cancellation.reason, by=VOIDED_BY, now=self.clock.now())
                voided = invoice
            await uow.commit()
        return voided
