"""Billing's domain events → published contract events: the service's one mapping."""

from __future__ import annotations

from decimal import Decimal

from billing.domain.events import InvoiceIssued, InvoicePaid, InvoiceVoided, PaymentRecorded, PaymentRejected
from portal_contracts import Event, Money
from portal_contracts.events import billing as contract


def to_contract(event: object) -> Event | list[Event]:
    match event:
        case InvoiceIssued():
            return [_issued_v1(event), _issued_v2(event)]
        case PaymentRecorded():
            return contract.PaymentReceived(
                invoice_id=event.invoice_id,
                number=event.number,
                account_id=event.account_id,
                request_id=event.request_id,
                payment_id=event.payment.id,
                method=event.payment.method,
                amount=_money(event.payment.amount, event.currency),
                amount_paid=_money(event.amount_paid, event.currency),
                balance_due=_money(event.balance_due, event.currency),
                invoice_status=event.status.value,
                received_at=event.payment.paid_at,
            )
        case InvoicePaid():
            return contract.PaymentConfirmed(
                invoice_id=event.invoice_id,
                number=event.number,
                account_id=event.account_id,
                request_id=event.request_id,
                amount_paid=_money(event.amount_paid, event.currency),
                confirmed_at=event.at,
            )
        case PaymentRejected():
            return contract.PaymentFailed(
                invoice_id=event.invoice_id,
                account_id=event.account_id,
                method=event.method,
                reason=event.reason,
                failed_at=event.at,
            )
        case InvoiceVoided():
            return contract.InvoiceVoided(
                invoice_id=event.invoice_id,
                number=event.number,
                account_id=event.account_id,
                source_kind=str(event.source.kind),
                source_id=event.source.id,
                reason=event.reason,
                voided_at=event.at,
            )
    raise TypeError(f"billing has no contract for {type(event).__name__}")


def _issued_v1(event: InvoiceIssued) -> contract.InvoiceIssued:
    """What orders and notify read (and returns read before version 2)."""
    return contract.InvoiceIssued(
        invoice_id=event.invoice_id,
        number=event.number,
        account_id=event.account_id,
        request_id=event.request_id,
        lines=[
            contract.InvoiceLine(
                description=line.description,
                quantity=line.quantity,
                unit_price=_money(line.unit_price, event.currency),
                line_total=_money(line.line_total, event.currency),
            )
            for line in event.lines
        ],
        total=_money(event.total, event.currency),
        due_on=event.due_on,
        payment_instructions=[
            contract.PaymentInstruction(method=i.method, details=i.details) for i in event.instructions
        ],
        issued_at=event.issued_at,
    )


def _issued_v2(event: InvoiceIssued) -> contract.InvoiceIssuedV2:
    currency = event.currency
    return contract.InvoiceIssuedV2(
        invoice_id=event.invoice_id,
        number=event.number,
        account_id=event.account_id,
        source_kind=str(event.source.kind),
        source_id=event.source.id,
        period_start=event.source.period_start,
        period_end=event.source.period_end,
        request_id=event.request_id,
        currency=currency,
        lines=[
            contract.InvoiceLineV2(
                line_id=line.line_id,
                description=line.description,
                item_id=line.item_id,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=_money(line.unit_price, currency),
                line_total=_money(line.line_total, currency),
                tax_rate=line.tax_rate,
                tax=_money(line.tax_amount, currency),
                subscription_id=line.subscription_id,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for line in event.lines
        ],
        total=_money(event.total, currency),
        tax_total=_money(sum((line.tax_amount for line in event.lines), Decimal(0)), currency),
        due_on=event.due_on,
        payment_instructions=[
            contract.PaymentInstruction(method=i.method, details=i.details) for i in event.instructions
        ],
        issued_at=event.issued_at,
    )


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)
