"""Printing orders' invoices: the invoice of one order (its owner or an admin; another account's
order is 404), and the invoices of one page of an order manager's view in one PDF (admins), each
from orders' copy of what billing issued (`invoice_documents`).

An order's invoice is the one billing issued last that is not voided, else the last voided one
(printed with its VOID stamp). What is paid so far is billing's figure when a payment event told
it, else what the order's payment status says for sure (cleared: all of it; not submitted:
nothing), else it is not printed. The order's public note is printed; its private note never."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, tzinfo
from decimal import Decimal
from typing import Protocol

from orders.adapters.message_repository import InvoiceDocument, InvoiceDocuments
from orders.domain.b2b_orders import PaymentStatus
from orders.domain.orders import Order
from orders.printing.invoice import Instruction, PrintedInvoice, PrintedLine, render
from orders.service.order_manager import AdminOrderView, ViewQuery
from portal_runtime.auth import Principal
from portal_runtime.clock import business_date
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


class Views(Protocol):
    """The order manager's views (`orders.service.order_manager.OrderManagerViews`): a page of
    AdminOrderView (each with its `order`)."""

    async def list(self, admin: Principal, query: ViewQuery, page: PageRequest) -> Slice[AdminOrderView]: ...


@dataclass(frozen=True)
class Printed:
    filename: str
    content: bytes
    invoices: tuple[str, ...]  # the invoice numbers printed, in order


@dataclass(frozen=True)
class Issuer:
    name: str
    address: tuple[str, ...]


class PrintingService:
    def __init__(self, uow: UnitsOfWork, tz: tzinfo, issuer: Issuer, views: Views | None = None) -> None:
        self.uow = uow
        self.tz = tz
        self.issuer = issuer
        self.views = views

    async def order_invoice(self, actor: Principal, order_id: uuid.UUID) -> Printed:
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None or not actor.owns(order.account_id):
                raise NotFound(f"no order {order_id}", field="order_id")
            documents = (await InvoiceDocuments(uow).of_orders([order.id]))[order.id]
        document = _current(documents)
        if document is None:
            raise Conflict(f"billing has not issued the invoice of order {order.number} yet", field="order_id")
        printed = self.printed(order, document)
        return Printed(f"{document.number}.pdf", await _render([printed]), (document.number,))

    async def view_invoices(self, admin: Principal, query: ViewQuery, page: PageRequest) -> Printed:
        """One PDF of the invoices of the view's page, in the view's order (orders without one skipped)."""
        if self.views is None:
            raise RuntimeError("printing a view needs the order manager's views")
        found = await self.views.list(admin, query, page)
        orders = [item.order for item in found.items]
        async with self.uow() as uow:
            documents = await InvoiceDocuments(uow).of_orders(o.id for o in orders)
        prints = []
        for order in orders:
            document = _current(documents[order.id])
            if document is not None:
                prints.append(self.printed(order, document))
        if not prints:
            raise Conflict("billing has not issued an invoice for any order of this page of the view yet", field="view")
        name = f"invoices-{query.view}-{page.offset + 1}-{page.offset + len(orders)}.pdf"
        return Printed(name, await _render(prints), tuple(p.number for p in prints))

    def printed(self, order: Order, document: InvoiceDocument) -> PrintedInvoice:
        data = document.payload
        currency = data.get("currency") or data["total"]["currency"]
        lines = tuple(
            PrintedLine(
                description=line["description"],
                quantity=int(line["quantity"]),
                unit_price=Decimal(line["unit_price"]["amount"]),
                tax_rate=Decimal(line.get("tax_rate") or "0"),
                net=Decimal(line["line_total"]["amount"]),
                tax=Decimal(line.get("tax", {}).get("amount", "0")),
                sku=line.get("sku"),
            )
            for line in data.get("lines", [])
        )
        invoice = PrintedInvoice(
            issuer_name=self.issuer.name,
            issuer_address=self.issuer.address,
            number=document.number,
            issued_on=business_date(document.issued_at, self.tz),
            due_on=_date(data["due_on"]),
            order_number=order.number,
            account_id=order.account_id,
            currency=currency,
            lines=lines,
            bill_to=_bill_to(data.get("bill_to")),
            customer_reference=order.customer_reference,
            instructions=tuple(
                Instruction(i["method"], dict(i["details"])) for i in data.get("payment_instructions", [])
            ),
            public_note=getattr(order, "public_note", None),
            voided=document.status == "voided",
        )
        return _with_paid(invoice, order, document)


async def _render(invoices: list[PrintedInvoice]) -> bytes:
    """Rendering is CPU work (about 50 ms an invoice): in a thread, so the event loop goes on serving."""
    return await asyncio.to_thread(render, invoices)


def _with_paid(invoice: PrintedInvoice, order: Order, document: InvoiceDocument) -> PrintedInvoice:
    if document.amount_paid is not None:
        paid: Decimal | None = document.amount_paid
    elif order.payment_status == PaymentStatus.CLEARED:
        paid = invoice.total
    elif order.payment_status == PaymentStatus.NOT_SUBMITTED:
        paid = Decimal("0.00")
    else:
        paid = None  # a part paid (or a failure after one): billing's figure is not known here
    return replace(invoice, paid=paid, credited=document.credited)


def _current(documents: Sequence[InvoiceDocument]) -> InvoiceDocument | None:
    live = [d for d in documents if d.status != "voided"]
    chosen = live or list(documents)
    return chosen[-1] if chosen else None


def _date(value: str) -> date:
    return date.fromisoformat(value)


def _bill_to(bill_to: dict | None) -> tuple[str, ...]:
    if not bill_to:
        return ()
    lines = [bill_to["name"], bill_to.get("company"), bill_to["line1"], bill_to.get("line2")]
    lines += [f"{bill_to['postal_code']} {bill_to['city']}", bill_to["country"]]
    return tuple(line for line in lines if line)
