"""Domain changes → published contract events, in one place."""

from __future__ import annotations

from datetime import datetime

from billing.domain.invoices import Invoice, Issued, Paid, PaymentRecorded, PaymentRejected
from portal_contracts import Event, Money
from portal_contracts.events.billing import (
    InvoiceIssued,
    InvoiceLine,
    PaymentConfirmed,
    PaymentFailed,
    PaymentInstruction,
    PaymentReceived,
)


def to_contract(invoice: Invoice, change: object, now: datetime) -> Event:
    def money(amount) -> Money:
        return Money(amount=amount, currency=invoice.currency)

    if isinstance(change, Issued):
        return InvoiceIssued(
            invoice_id=invoice.id,
            number=invoice.number,
            account_id=invoice.account_id,
            request_id=invoice.request_id,
            lines=[
                InvoiceLine(
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=money(line.unit_price),
                    line_total=money(line.line_total),
                )
                for line in invoice.lines
            ],
            total=money(invoice.total),
            due_on=invoice.due_on,
            payment_instructions=[PaymentInstruction(method=i.method, details=i.details) for i in invoice.instructions],
            issued_at=invoice.issued_at,
        )
    if isinstance(change, PaymentRecorded):
        return PaymentReceived(
            invoice_id=invoice.id,
            number=invoice.number,
            account_id=invoice.account_id,
            request_id=invoice.request_id,
            payment_id=change.payment.id,
            method=change.payment.method,
            amount=money(change.payment.amount),
            amount_paid=money(change.amount_paid),
            balance_due=money(change.balance_due),
            invoice_status="paid" if change.balance_due <= 0 else "partially_paid",
            received_at=change.payment.paid_at,
        )
    if isinstance(change, Paid):
        return PaymentConfirmed(
            invoice_id=invoice.id,
            number=invoice.number,
            account_id=invoice.account_id,
            request_id=invoice.request_id,
            amount_paid=money(invoice.amount_paid),
            confirmed_at=now,
        )
    if isinstance(change, PaymentRejected):
        return PaymentFailed(
            invoice_id=invoice.id,
            account_id=invoice.account_id,
            method=change.method,
            reason=change.reason,
            failed_at=now,
        )
    raise TypeError(f"no event for {change!r}")
