"""Events returns applies from other services."""

from __future__ import annotations

from portal_contracts.events.billing import InvoiceIssued, InvoiceIssuedV2
from portal_contracts.events.orders import OrderShipped
from portal_runtime.consumer import EventConsumer, Incoming
from portal_runtime.service import ServiceRuntime
from returns.adapters.events import returnable_invoice, shipped_lines
from returns.service.invoices import ReturnableInvoices
from returns.service.shipments import ShippedGoods


def register_consumers(consumer: EventConsumer, rt: ServiceRuntime) -> None:
    invoices = ReturnableInvoices(rt.uow)
    shipped = ShippedGoods(rt.uow)

    @consumer.on(InvoiceIssued)
    async def invoice_issued(d: Incoming) -> None:
        await invoices.record(returnable_invoice(d.event))

    @consumer.on(InvoiceIssuedV2)
    async def invoice_issued_v2(d: Incoming) -> None:
        await invoices.record(returnable_invoice(d.event))

    @consumer.on(OrderShipped)
    async def order_shipped(d: Incoming) -> None:
        await shipped.record(d.event.order_id, shipped_lines(d.event))
