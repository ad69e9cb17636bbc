"""Contract events ↔ the domain, in one place: InvoiceIssued in, and the service's one mapping of
its domain events to the contract events it publishes (ReturnRequested)."""

from __future__ import annotations

from portal_contracts import Event
from portal_contracts.events import returns as contract
from portal_contracts.events.billing import InvoiceIssued, InvoiceIssuedV2
from returns.domain.events import ReturnApproved, ReturnReceived, ReturnRejected, ReturnRequested
from returns.domain.invoices import InvoicedLine, ReturnableInvoice


def returnable_invoice(event: InvoiceIssued | InvoiceIssuedV2) -> ReturnableInvoice:
    """From version 2: lines with billing's line ids and SKUs. From version 1 (published just
    before version 2 of the same invoice, and all there was before it): description and quantity."""
    if isinstance(event, InvoiceIssuedV2):
        lines = tuple(
            InvoicedLine(description=line.description, quantity=line.quantity, line_id=line.line_id, sku=line.sku)
            for line in event.lines
        )
    else:
        lines = tuple(InvoicedLine(description=line.description, quantity=line.quantity) for line in event.lines)
    return ReturnableInvoice(
        invoice_id=event.invoice_id,
        number=event.number,
        account_id=event.account_id,
        issued_at=event.issued_at,
        lines=lines,
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
