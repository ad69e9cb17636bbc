"""The account ledger: every movement of what an account owes, per currency, dated on the
business date it happened (`on`), written in the transaction of what it records and never changed.

- an invoice issued: a debit of its total;
- a payment that moved money onto an invoice: a credit (a payment from the account's credit,
  method `account_credit`, is no row: that money was counted when it came in);
- an account payment (an advance, `billing.domain.ledger.AccountPayment`): a credit of all of it, once;
- a credit note: a credit of its gross total (net + tax); a refund it makes: a debit;
- a void: a credit of what the invoice still owed when it was voided, dated the void (the invoice
  stays in the period it was issued in, so a closed period's figures never change).

So the ledger's sum (debits less credits) of an account and currency is always what its open
invoices still owe less its account credit: the customer balance. One row per kind and document
(`document_id`): a record told twice writes once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum

from billing.domain.invoices import Invoice, Payment
from portal_runtime.clock import business_date
from portal_runtime.errors import InvalidInput
from portal_runtime.kernel import cents

ZERO = Decimal(0)
# A payment taken from the account's credit (an advance or a credit note's credit): no ledger row.
ACCOUNT_CREDIT = "account_credit"
# How an account payment may have arrived (recorded by the business).
ACCOUNT_PAYMENT_METHODS = ("bank_transfer", "cash", "card", "cheque", "paypal")
# Invoices paid at once from the account's credit when issued (a unit package's card pays its own).
SPENDS_CREDIT = ("order", "service_request")


class LedgerKind(StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"
    ADVANCE_PAYMENT = "advance_payment"
    CREDIT_NOTE = "credit_note"
    REFUND = "refund"
    VOID = "void"


@dataclass(frozen=True)
class LedgerEntry:
    """One row of an account's ledger: a `debit` (owed more) or a `credit` (owed less)."""

    id: uuid.UUID
    account_id: str
    currency: str
    on: date
    at: datetime
    kind: LedgerKind
    document_id: uuid.UUID
    document_number: str | None
    description: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    source_kind: str | None = None
    source_id: str | None = None

    @property
    def amount(self) -> Decimal:
        """What it adds to the balance (debit less credit)."""
        return self.debit - self.credit

    # -- what each record writes ----------------------------------------------------------------
    @classmethod
    def _of(cls, invoice: Invoice, kind: LedgerKind, document_id: uuid.UUID, at: datetime, tz: tzinfo, **kw):
        return cls(
            id=uuid.uuid4(),
            account_id=invoice.account_id,
            currency=invoice.currency,
            on=business_date(at, tz),
            at=at,
            kind=kind,
            document_id=document_id,
            source_kind=str(invoice.source.kind),
            source_id=invoice.source.id,
            **kw,
        )

    @classmethod
    def of_invoice(cls, invoice: Invoice, tz: tzinfo) -> LedgerEntry:
        return cls._of(
            invoice,
            LedgerKind.INVOICE,
            invoice.id,
            invoice.issued_at,
            tz,
            document_number=invoice.number,
            description=f"Invoice {invoice.number}",
            debit=invoice.total,
        )

    @classmethod
    def of_payment(cls, invoice: Invoice, payment: Payment, tz: tzinfo) -> LedgerEntry:
        return cls._of(
            invoice,
            LedgerKind.PAYMENT,
            payment.id,
            payment.paid_at,
            tz,
            document_number=invoice.number,
            description=f"Payment ({payment.method.replace('_', ' ')}) on invoice {invoice.number}",
            credit=payment.amount,
        )

    @classmethod
    def of_void(cls, invoice: Invoice, amount: Decimal, at: datetime, tz: tzinfo) -> LedgerEntry:
        return cls._of(
            invoice,
            LedgerKind.VOID,
            invoice.id,
            at,
            tz,
            document_number=invoice.number,
            description=f"Invoice {invoice.number} voided",
            credit=cents(amount),
        )

    @classmethod
    def of_credit_note(cls, note, tz: tzinfo) -> LedgerEntry:
        """`note`: a `billing.domain.credit_notes.CreditNote`; its gross total (net + tax)."""
        return cls(
            id=uuid.uuid4(),
            account_id=note.account_id,
            currency=note.currency,
            on=business_date(note.issued_at, tz),
            at=note.issued_at,
            kind=LedgerKind.CREDIT_NOTE,
            document_id=note.id,
            document_number=note.number,
            description=f"Credit note {note.number} for invoice {note.invoice_number}",
            credit=cents(note.total + note.tax_total),
            source_kind=str(note.source.kind),
            source_id=note.source.id,
        )

    @classmethod
    def of_refund(cls, note, refund, tz: tzinfo) -> LedgerEntry:
        """`refund`: a `billing.domain.credit_notes.Refund` of `note`: money back to the payer."""
        return cls(
            id=uuid.uuid4(),
            account_id=note.account_id,
            currency=refund.currency,
            on=business_date(refund.refunded_at, tz),
            at=refund.refunded_at,
            kind=LedgerKind.REFUND,
            document_id=refund.id,
            document_number=note.number,
            description=f"Refund ({refund.method.replace('_', ' ')}) of credit note {note.number}",
            debit=cents(refund.amount),
            source_kind=str(note.source.kind),
            source_id=note.source.id,
        )

    @classmethod
    def of_account_payment(cls, payment: AccountPayment, tz: tzinfo) -> LedgerEntry:
        return cls(
            id=uuid.uuid4(),
            account_id=payment.account_id,
            currency=payment.currency,
            on=payment.received_on,
            at=payment.recorded_at,
            kind=LedgerKind.ADVANCE_PAYMENT,
            document_id=payment.id,
            document_number=payment.reference,
            description=f"Payment on account ({payment.method.replace('_', ' ')})"
            + (f", {payment.reference}" if payment.reference else ""),
            credit=payment.amount,
        )


# -- account payments (advances) -----------------------------------------------------------------
@dataclass(frozen=True)
class Allocation:
    """What of an account payment (or of the account's credit) paid one invoice."""

    invoice_id: uuid.UUID
    invoice_number: str
    amount: Decimal
    payment_id: uuid.UUID  # the payment recorded on the invoice (method account_credit)


@dataclass
class AccountPayment:
    """Money the account paid, not for one invoice: allocated to its open invoices in that currency,
    oldest due first; the rest stays on the account (its credit, kind `advance`)."""

    id: uuid.UUID
    account_id: str
    currency: str
    amount: Decimal
    method: str
    reference: str | None
    received_on: date
    recorded_at: datetime
    recorded_by: str
    allocations: list[Allocation] = field(default_factory=list)

    @property
    def allocated(self) -> Decimal:
        return cents(sum((a.amount for a in self.allocations), ZERO))

    @property
    def advance(self) -> Decimal:
        """What is left on the account after the allocations."""
        return self.amount - self.allocated

    @classmethod
    def receive(
        cls,
        *,
        account_id: str,
        currency: str,
        amount: Decimal,
        method: str,
        reference: str | None,
        received_on: date | None,
        today: date,
        now: datetime,
        by: str,
    ) -> AccountPayment:
        if not account_id or not account_id.strip() or len(account_id) > 200:
            raise InvalidInput("an account payment names the account (at most 200 characters)", field="account_id")
        if amount <= 0:
            raise InvalidInput("amount must be more than zero", field="amount.amount")
        if amount != cents(amount):
            raise InvalidInput("amount has at most two decimal places", field="amount.amount")
        if method not in ACCOUNT_PAYMENT_METHODS:
            raise InvalidInput(f"method must be one of {', '.join(ACCOUNT_PAYMENT_METHODS)}", field="method")
        received_on = received_on or today
        if received_on > today:
            raise InvalidInput("a payment is recorded once it was received (not after today)", field="received_on")
        return cls(
            id=uuid.uuid4(),
            account_id=account_id,
            currency=currency,
            amount=cents(amount),
            method=method,
            reference=reference,
            received_on=received_on,
            recorded_at=now,
            recorded_by=by,
        )


def allocation_order(invoice: Invoice) -> tuple:
    """Oldest due first, then issued first, then by number."""
    return (invoice.due_on, invoice.issued_at, invoice.number)


def allocate(amount: Decimal, invoices: list[Invoice]) -> list[tuple[Invoice, Decimal]]:
    """Split `amount` over `invoices` by `allocation_order`, each at most what may be paid on it now
    (its balance due less payments in flight); what is left is not allocated."""
    parts, left = [], cents(amount)
    for invoice in sorted(invoices, key=allocation_order):
        if left <= 0:
            break
        part = min(left, invoice.payable)
        if part > 0:
            parts.append((invoice, part))
            left -= part
    return parts
