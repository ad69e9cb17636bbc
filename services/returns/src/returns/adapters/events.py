"""Contract events ↔ the domain, in one place: InvoiceIssued in, ReturnRequested out."""

from __future__ import annotations

from portal_contracts import Event
from portal_contracts.events.billing import InvoiceIssued
from portal_contracts.events.returns import ReturnLine, ReturnRequested
from returns.domain.invoices import InvoicedLine, ReturnableInvoice
from returns.domain.rma import Rma, Transition


def returnable_invoice(event: InvoiceIssued) -> ReturnableInvoice:
    return ReturnableInvoice(
        invoice_id=event.invoice_id,
        number=event.number,
        account_id=event.account_id,
        issued_at=event.issued_at,
        lines=tuple(InvoicedLine(description=line.description, quantity=line.quantity) for line in event.lines),
    )


def to_contract(rma: Rma, change: Transition) -> Event | None:
    """The event a change publishes. Approval, rejection and receipt have no contract event yet
    (ReturnApproved, ReturnRejected, ReturnReceived are proposed); they live in rma_history."""
    if change.to_status == "requested":
        return ReturnRequested(
            rma_id=rma.id,
            account_id=rma.account_id,
            invoice_number=rma.invoice_number,
            lines=[ReturnLine(sku=line.sku, quantity=line.quantity, reason=line.reason) for line in rma.lines],
            requested_at=change.at,
        )
    return None
