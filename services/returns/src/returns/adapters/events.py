"""Contract events ↔ the domain, in one place: InvoiceIssued in, and the service's one mapping of
its domain events to the contract events it publishes (ReturnRequested)."""

from __future__ import annotations

from portal_contracts import Event
from portal_contracts.events import returns as contract
from portal_contracts.events.billing import InvoiceIssued
from returns.domain.events import ReturnApproved, ReturnReceived, ReturnRejected, ReturnRequested
from returns.domain.invoices import InvoicedLine, ReturnableInvoice


def returnable_invoice(event: InvoiceIssued) -> ReturnableInvoice:
    return ReturnableInvoice(
        invoice_id=event.invoice_id,
        number=event.number,
        account_id=event.account_id,
        issued_at=event.issued_at,
        lines=tuple(InvoicedLine(description=line.description, quantity=line.quantity) for line in event.lines),
    )


def to_contract(event: object) -> Event | None:
    match event:
        case ReturnRequested():
            return contract.ReturnRequested(
                rma_id=event.rma_id,
                account_id=event.account_id,
                invoice_number=event.invoice_number,
                lines=[
                    contract.ReturnLine(sku=line.sku, quantity=line.quantity, reason=line.reason)
                    for line in event.lines
                ],
                requested_at=event.at,
            )
        case ReturnApproved() | ReturnRejected() | ReturnReceived():
            # No contract event yet: the returns-and-finance issue adds ReturnApproved,
            # ReturnRejected and ReturnReceived. Until then they live in rma_history only.
            return None
    raise TypeError(f"returns has no contract for {type(event).__name__}")
