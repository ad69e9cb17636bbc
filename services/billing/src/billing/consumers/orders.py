"""Events from orders that billing acts on: approved service requests and client-area orders are
invoiced; a cancelled order's invoice is voided, and what was paid on it credited back."""

from __future__ import annotations

from decimal import Decimal

from billing.domain.invoices import Line
from billing.domain.orders import OrderCancellation, line_description
from billing.service.invoices import BillingService
from billing.service.invoicing import IssueInvoice
from billing.service.orders import InvoiceOrder
from portal_contracts.events.orders import (
    OrderCancelled,
    OrderLine,
    OrderLineV2,
    OrderPlaced,
    OrderPlacedV2,
    RequestApproved,
)
from portal_runtime.consumer import EventConsumer, Incoming


def issue_command(event: RequestApproved) -> IssueInvoice:
    return IssueInvoice(
        request_id=event.request_id,
        account_id=event.account_id,
        currency=event.total.currency,
        lines=[
            Line(
                description=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price.amount,
                item_id=line.item_id,
                currency=line.unit_price.currency,
            )
            for line in event.lines
        ],
        expected_total=event.total.amount,
    )


def order_command(event: OrderPlaced | OrderPlacedV2) -> InvoiceOrder:
    """One invoice line per order line, its total the line's amount (after proration; quantity ×
    unit price for goods), its tax at the line's `tax_rate` and its `line_id` the order line's (v2).
    v1 (orders placed before v2) and v2 read alike otherwise: a v2 line of goods has no service and no
    period. The order's `total` is its net: the invoice's `net_total` must match it."""
    return InvoiceOrder(
        order_id=event.order_id,
        source=event.source,
        account_id=event.account_id,
        currency=event.currency,
        lines=[
            Line(
                description=line_description(
                    line.name,
                    domain=line.domain,
                    renewal=event.source == "renewal" or line.kind == "renewal",
                    period_start=line.period_start,
                    period_end=line.period_end,
                ),
                quantity=line.quantity,
                unit_price=line.unit_price.amount,
                amount=line.amount.amount,
                item_id=line.item_id,
                sku=line.sku,
                currency=line.unit_price.currency,
                subscription_id=line.subscription_id,
                period_start=line.period_start,
                period_end=line.period_end,
                **_order_line_tax(line),
            )
            for line in event.lines
        ],
        total=event.total.amount,
        due_on=event.due_on,
        payment_terms_days=getattr(event, "payment_terms_days", None),  # v2 only
        number=event.number,
    )


def _order_line_tax(line: OrderLine | OrderLineV2) -> dict:
    """A v2 line's invoice line: its `line_id` is the ORDER line's (returns match shipped order lines to
    invoice lines by it) and its tax rate the item's when placed (none: 0). A v1 line: neither (as before)."""
    if not isinstance(line, OrderLineV2):
        return {}
    return {"line_id": line.line_id, "tax_rate": line.tax_rate or Decimal(0)}


def cancellation(event: OrderCancelled) -> OrderCancellation:
    return OrderCancellation(
        order_id=event.order_id,
        account_id=event.account_id,
        reason=event.reason,
        cancelled_at=event.cancelled_at,
        number=event.number,
        note=event.note,
        settlement=event.settlement,
        cancelled_by=event.cancelled_by,
    )


def register(consumer: EventConsumer, billing: BillingService) -> None:
    @consumer.on(RequestApproved)
    async def on_request_approved(incoming: Incoming) -> None:
        await billing.issue_invoice(issue_command(incoming.event))  # joins the consumer's unit of work

    @consumer.on(OrderPlaced)
    async def on_order_placed(incoming: Incoming) -> None:
        await billing.invoice_order(order_command(incoming.event))

    @consumer.on(OrderPlacedV2)
    async def on_order_placed_v2(incoming: Incoming) -> None:
        await billing.invoice_order(order_command(incoming.event))

    @consumer.on(OrderCancelled)
    async def on_order_cancelled(incoming: Incoming) -> None:
        await billing.cancel_order(cancellation(incoming.event))
