"""What billing's events do to the client area's orders (called by the consumers: each joins the
consumer's unit of work, the inbox row included).

InvoiceIssued v2 of an order (source_kind order or renewal) links the invoice to it;
PaymentConfirmed of a linked invoice fulfils the order (`orders.domain.orders.fulfil`): the
order paid, its services activated, renewed, attached or reactivated. The inbox dedupes one
event id; a second, different PaymentConfirmed for the same order finds it paid and changes
nothing. InvoiceVoided marks the link voided.

The order's payment status follows the same events of its linked invoice
(`orders.domain.b2b_orders.payment`): PaymentReceived with a balance still due → submitted,
PaymentConfirmed → cleared, PaymentFailed → failed; a later payment moves it on, an older event
arriving late changes nothing."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, tzinfo

from orders.adapters.repository import InvoiceLink
from orders.domain.b2b_orders import PaymentStatus, payment
from orders.domain.orders import Status, fulfil
from portal_runtime.clock import Clock, business_date
from portal_runtime.errors import InvalidInput
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)
BY = "billing"  # who the history rows of a payment name
ORDER_SOURCES = ("order", "renewal")


class FulfilmentService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, tz: tzinfo) -> None:
        self.uow = uow
        self.clock = clock
        self.tz = tz

    async def link_invoice(
        self,
        *,
        invoice_id: uuid.UUID,
        number: str,
        source_kind: str,
        source_id: str,
        total,
        currency: str,
        due_on: date,
        issued_at: datetime,
    ) -> bool:
        """Link an invoice to the order it names; False when it names none of ours (another
        source kind, an order orders does not know) or was linked already."""
        if source_kind not in ORDER_SOURCES:
            return False
        async with self.uow() as uow:
            order = await uow.orders.get(uuid.UUID(source_id))
            if order is None:
                log.warning("invoice %s names order %s, which orders does not know", number, source_id)
                return False
            linked = await uow.invoices.link(
                InvoiceLink(invoice_id, order.id, number, "issued", total, currency, due_on, issued_at)
            )
            await uow.commit()
        return linked

    async def paid(self, invoice_id: uuid.UUID, account_id: str, number: str, confirmed_at: datetime) -> bool:
        """The invoice is paid in full: its order is fulfilled as of the day it was paid. False
        when the invoice is not an order's, or the order was paid already. The account's
        services are locked before the order, as the jobs lock them."""
        async with self.uow() as uow:
            link = await uow.invoices.get(invoice_id)
            if link is None:
                return False
            await uow.invoices.set_status(invoice_id, "paid")
            services = await uow.subscriptions.of_account(account_id, for_update=True)
            order = await uow.orders.get(link.order_id, for_update=True)
            if order.account_id != account_id:
                raise InvalidInput(
                    f"payment {number} is for account {account_id}, order {order.number} belongs to another",
                    field="account_id",
                )
            if order.status == Status.CANCELLED:  # a payment that ended after an admin's cancel: billing
                # credits or refunds it (CreditNoteIssued); the order only records that it was paid
                payment(order, PaymentStatus.CLEARED, at=confirmed_at, by=BY, now=self.clock.now(), note=number)
                await uow.commit()
                log.info("invoice %s: order %s is cancelled, nothing is fulfilled", number, order.number)
                return False
            already = order.status == Status.PAID
            done = fulfil(order, services, business_date(confirmed_at, self.tz), by=BY, now=self.clock.now())
            payment(order, PaymentStatus.CLEARED, at=confirmed_at, by=BY, now=self.clock.now(), note=number)
            for service in done.created:
                uow.subscriptions.add(service)
            await uow.commit()
        if already:
            log.info("invoice %s: order %s was fulfilled already", number, order.number)
        return not already

    async def payment_received(self, invoice_id: uuid.UUID, balance_due, received_at: datetime, number: str) -> bool:
        """A payment on an order's invoice: with a balance still due, the order's payment is
        submitted (paid in full: PaymentConfirmed follows and clears it). False when the invoice is
        no order's or nothing changed."""
        if balance_due <= 0:
            return False
        return await self._payment(invoice_id, PaymentStatus.SUBMITTED, received_at, number, "partially_paid")

    async def payment_failed(self, invoice_id: uuid.UUID, failed_at: datetime, reason: str) -> bool:
        """A payment on an order's invoice failed: the order's payment is failed until a later one."""
        return await self._payment(invoice_id, PaymentStatus.FAILED, failed_at, reason, None)

    async def _payment(
        self, invoice_id: uuid.UUID, to: PaymentStatus, at: datetime, note: str, invoice_status: str | None
    ) -> bool:
        async with self.uow() as uow:
            link = await uow.invoices.get(invoice_id)
            if link is None:
                return False
            order = await uow.orders.get(link.order_id, for_update=True)
            moved = payment(order, to, at=at, by=BY, now=self.clock.now(), note=note)
            if invoice_status is not None and link.status == "issued":
                await uow.invoices.set_status(invoice_id, invoice_status)
            await uow.commit()
        return moved

    async def voided(self, invoice_id: uuid.UUID) -> None:
        async with self.uow() as uow:
            await uow.invoices.set_status(invoice_id, "voided")
            await uow.commit()
