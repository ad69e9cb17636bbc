"""Contract events ↔ the domain, in one place: InvoiceIssued and OrderShipped in, and the service's
one mapping of its domain events to the contract events it publishes on `returns.rma`."""

from __future__ import annotations

import uuid

from portal_contracts import Event
from portal_contracts.events import returns as contract
from portal_contracts.events.billing import InvoiceIssued, InvoiceIssuedV2
from portal_contracts.events.orders import OrderShipped
from returns.domain import events as domain
from returns.domain.invoices import InvoicedLine, ReturnableInvoice
from returns.domain.rma import ReturnLine


def returnable_invoice(event: InvoiceIssued | InvoiceIssuedV2) -> ReturnableInvoice:
    """From version 2: lines with billing's line ids and SKUs, and what the invoice bills (source
    kind and id). From version 1 (published just before version 2 of the same invoice, and all there
    was before it): description and quantity."""
    if isinstance(event, InvoiceIssuedV2):
        lines = tuple(
            InvoicedLine(description=line.description, quantity=line.quantity, line_id=line.line_id, sku=line.sku)
            for line in event.lines
        )
        source_kind, source_id = event.source_kind, event.source_id
    else:
        lines = tuple(InvoicedLine(description=line.description, quantity=line.quantity) for line in event.lines)
        source_kind = source_id = None
    return ReturnableInvoice(
        invoice_id=event.invoice_id,
        number=event.number,
        account_id=event.account_id,
        issued_at=event.issued_at,
        lines=lines,
        source_kind=source_kind,
        source_id=source_id,
    )


def shipped_lines(event: OrderShipped) -> dict[uuid.UUID, int]:
    """By order line id, how many of it have shipped so far (all shipments of the line)."""
    return {line.line_id: line.shipped for line in event.lines}


def _lines(lines: tuple[ReturnLine, ...]) -> list[contract.ReturnLine]:
    return [
        contract.ReturnLine(sku=line.sku, quantity=line.quantity, reason=line.reason, line_id=line.line_id)
        for line in lines
    ]


def to_contract(event: object) -> Event | None:
    match event:
        case domain.ReturnRequested():
            return contract.ReturnRequested(
                rma_id=event.rma_id,
                account_id=event.account_id,
                invoice_number=event.invoice_number,
                lines=_lines(event.lines),
                requested_at=event.at,
                number=event.number,
                invoice_id=event.invoice_id,
                problem=event.problem,
            )
        case domain.ReturnApproved():
            return contract.ReturnApproved(
                rma_id=event.rma_id,
                number=event.number,
                account_id=event.account_id,
                invoice_id=event.invoice_id,
                invoice_number=event.invoice_number,
                resolution=event.resolution,
                expected_on=event.expected_on,
                lines=_lines(event.lines),
                note=event.note,
                approved_by=event.by,
                approved_at=event.at,
            )
        case domain.ReturnRejected():
            return contract.ReturnRejected(
                rma_id=event.rma_id,
                number=event.number,
                account_id=event.account_id,
                invoice_number=event.invoice_number,
                reason=event.reason,
                rejected_by=event.by,
                rejected_at=event.at,
            )
        case domain.ReturnExpectedDateChanged():
            return contract.ReturnExpectedDateChanged(
                rma_id=event.rma_id,
                number=event.number,
                account_id=event.account_id,
                invoice_number=event.invoice_number,
                expected_on=event.expected_on,
                previous_expected_on=event.previous_expected_on,
                note=event.note,
                changed_by=event.by,
                changed_at=event.at,
            )
        case domain.GoodsReceived():
            receipt = event.receipt
            return contract.GoodsReceived(
                receipt_id=receipt.id,
                number=receipt.number,
                rma_id=receipt.rma_id,
                rma_number=receipt.rma_number,
                account_id=receipt.account_id,
                invoice_id=event.invoice_id,
                invoice_number=receipt.invoice_number,
                resolution=event.resolution,
                lines=[
                    contract.ReceivedLine(invoice_line_id=x.line_id, description=x.description, quantity=x.quantity)
                    for x in receipt.lines
                ],
                rma_status=event.rma_status,
                received_by=receipt.received_by,
                received_at=receipt.received_at,
            )
        case domain.ReturnCompleted() | domain.ReturnClosed():
            return None  # no contract: completion and closing live in rma_history only
    raise TypeError(f"returns has no contract for {type(event).__name__}")
