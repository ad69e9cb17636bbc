"""Events from orders that billing acts on."""

from __future__ import annotations

from billing.domain.invoices import Line
from billing.service.invoices import BillingService
from billing.service.invoicing import IssueInvoice
from portal_contracts.events.orders import RequestApproved
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


def register(consumer: EventConsumer, billing: BillingService) -> None:
    @consumer.on(RequestApproved)
    async def on_request_approved(incoming: Incoming) -> None:
        await billing.issue_invoice(issue_command(incoming.event))  # joins the consumer's unit of work
