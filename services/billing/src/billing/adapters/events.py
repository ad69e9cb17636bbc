"""Billing's domain events → published contract events: the service's one mapping."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal

from billing.domain.credit_notes import CreditNoteIssued
from billing.domain.events import (
    InvoiceIssued,
    InvoicePaid,
    InvoiceVoided,
    PaymentRecorded,
    PaymentRejected,
    UnitsBalanceDepleted,
    UnitsBalanceLow,
    UnitsCredited,
    UnitsPurchased,
    UnitsPurchaseFailed,
)
from billing.domain.plans import BillingContact, CapReached, PlanPaused, TopUpFailed
from billing.domain.reconciliation import StatementConfirmed, StatementDisputed, StatementIssued
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
                source_kind=event.source_kind,
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
        case CreditNoteIssued():
            return _credit_note_issued(event)
        case StatementIssued():
            st = event.statement
            return contract.StatementIssued(
                statement_id=st.id,
                number=st.number,
                account_id=st.account_id,
                currency=st.currency,
                period_start=st.period_start,
                period_end=st.period_end,
                opening_balance=_money(st.opening_balance, st.currency),
                debits=_money(st.debits, st.currency),
                credits=_money(st.credits, st.currency),
                closing_balance=_money(st.closing_balance, st.currency),
                issued_by=st.issued_by,
                issued_at=st.issued_at,
            )
        case StatementConfirmed():
            st = event.statement
            return contract.StatementConfirmed(
                statement_id=st.id,
                number=st.number,
                account_id=st.account_id,
                confirmed_by=st.answered_by,
                confirmed_at=st.answered_at,
            )
        case StatementDisputed():
            st = event.statement
            return contract.StatementDisputed(
                statement_id=st.id,
                number=st.number,
                account_id=st.account_id,
                note=st.dispute_note,
                disputed_by=st.answered_by,
                disputed_at=st.answered_at,
            )
        case TopUpFailed():
            return contract.UnitsTopUpFailed(
                account_id=event.account_id,
                purchase_id=event.purchase_id,
                invoice_id=event.invoice_id,
                invoice_number=event.invoice_number,
                total=_money(event.total, event.currency),
                reason=event.reason,
                declines_in_a_row=event.declines_in_a_row,
                next_attempt_at=event.next_attempt_at,
                plan_paused=event.plan_paused,
                billing_contact=_contact(event.billing_contact),
                failed_at=event.at,
            )
        case PlanPaused():
            return contract.UnitsPlanPaused(
                account_id=event.account_id,
                reason=event.reason.value,
                declines_in_a_row=event.declines_in_a_row,
                billing_contact=_contact(event.billing_contact),
                paused_at=event.at,
            )
        case CapReached():
            return contract.UnitsCapReached(
                account_id=event.account_id,
                month=event.month,
                cap=_money(event.cap, event.currency),
                spent=_money(event.spent, event.currency),
                needed=_money(event.needed, event.currency),
                resumes_on=event.resumes_on,
                billing_contact=_contact(event.billing_contact),
                reached_at=event.at,
            )
        case UnitsCredited():
            entry = event.entry
            return contract.UnitsCredited(
                account_id=entry.account_id,
                entry_id=entry.entry_id,
                kind=entry.kind.value,
                units=entry.units,
                balance_after=entry.balance_after,
                purchase_id=entry.purchase_id,
                source=entry.source.value if entry.source else None,
                invoice_id=entry.invoice_id,
                credited_at=entry.at,
            )
        case UnitsPurchased():
            return _units_purchased(event)
        case UnitsPurchaseFailed():
            purchase = event.purchase
            return contract.UnitsPurchaseFailed(
                account_id=purchase.account_id,
                purchase_id=purchase.purchase_id,
                invoice_id=purchase.invoice_id,
                invoice_number=purchase.invoice_number,
                total=_money(purchase.total, purchase.currency),
                reason=purchase.reason,
                failed_at=purchase.ended_at,
            )
        case UnitsBalanceLow():
            return contract.UnitsBalanceLow(
                account_id=event.account_id, balance=event.balance, low_balance_at=event.low_balance_at, at=event.at
            )
        case UnitsBalanceDepleted():
            return contract.UnitsBalanceDepleted(account_id=event.account_id, balance=event.balance, at=event.at)
    raise TypeError(f"billing has no contract for {type(event).__name__}")


def _units_purchased(event: UnitsPurchased) -> contract.UnitsPurchased:
    """A plan's purchase names its billing contact (its invoice's `bill_to`): the receipt goes there too."""
    purchase, currency = event.purchase, event.purchase.currency
    bill_to = purchase.bill_to
    return contract.UnitsPurchased(
        account_id=purchase.account_id,
        purchase_id=purchase.purchase_id,
        source=purchase.source.value,
        invoice_id=purchase.invoice_id,
        invoice_number=purchase.invoice_number,
        lines=[
            contract.PurchasedPackage(
                item_id=line.item_id,
                sku=line.sku,
                name=line.name,
                units=line.units,
                quantity=line.quantity,
                unit_price=_money(line.unit_price, currency),
                amount=_money(line.amount, currency),
            )
            for line in purchase.lines
        ],
        units=purchase.units,
        total=_money(purchase.total, currency),
        card_brand=purchase.card_brand,
        card_last4=purchase.card_last4,
        balance_after=event.balance_after,
        billing_contact=contract.BillingContact(name=bill_to.name, email=bill_to.email) if bill_to else None,
        purchased_at=purchase.ended_at,
    )


def _credit_note_issued(event: CreditNoteIssued) -> contract.CreditNoteIssued:
    note, currency = event.credit_note, event.credit_note.currency
    return contract.CreditNoteIssued(
        credit_note_id=note.id,
        number=note.number,
        invoice_id=note.invoice_id,
        invoice_number=note.invoice_number,
        account_id=note.account_id,
        source_kind=str(note.source.kind),
        source_id=note.source.id,
        currency=currency,
        lines=[
            contract.CreditNoteLine(
                line_id=line.line_id,
                invoice_line_id=line.invoice_line_id,
                description=line.description,
                quantity=line.quantity,
                unit_price=_money(line.unit_price, currency),
                line_total=_money(line.line_total, currency),
                tax_rate=line.tax_rate,
                tax=_money(line.tax, currency),
            )
            for line in note.lines
        ],
        total=_money(note.total, currency),
        tax_total=_money(note.tax_total, currency),
        reason=note.reason.value,
        settlement=note.settlement.value,
        refunded=_money(note.refunded, currency),
        credited=_money(note.credited, currency),
        issued_at=note.issued_at,
        applied=_money(note.applied, currency),
        rma_id=note.rma_id,
        receipt_id=note.receipt_id,
        receipt_number=note.receipt_number,
    )


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
        bill_to=contract.BillTo(**asdict(event.bill_to)) if event.bill_to else None,
    )


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def _contact(contact: BillingContact) -> contract.BillingContact:
    return contract.BillingContact(name=contact.name, email=contact.email)
