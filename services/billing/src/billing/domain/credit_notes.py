"""A credit note: billing gives back (part of) an invoice, numbered in its own gapless series per
year (`CN-2026-000001`), for one cause only (`reason` + `cause_id`: the cancelled order; later the
goods receipt of a return), so a cause told twice credits once.

Its lines say what it gives back: of an invoice line (`invoice_line_id`, a quantity at the line's
unit price and tax rate) or of payments taken (no invoice line). Today there are two shapes, both
made when an order is cancelled after money was paid on its invoice (`for_cancelled_order`):

- the invoice is PAID: every invoice line, at its quantity, unit price and tax (total = the
  invoice's total); the invoice stays paid;
- the invoice was PARTIALLY_PAID (and is voided by the cancellation): one line "Payments received
  on invoice <n> for cancelled order", of the amount paid, tax 0.

Totals follow the invoice's: `total` is the sum of the lines' net totals (what was paid of it),
`tax_total` the lines' tax beside it. What the credit note gives back is settled one of two ways:
`refund` - to the payer, as refund rows against the payments it took (latest first) with their
method; billing records the refund, no gateway payout is made (the business pays it out) - or
`credit` - the account's credit in the invoice's currency (`billing.domain.credit_notes.CreditEntry`
rows of the `account_credits` ledger), for its next invoices.

Built for more later (returned goods): a line credits a quantity of an invoice line, which a
later credit note may credit further until the invoiced quantity; `refunded` + `credited` is what
went back beyond what the invoice still owed.

Returned goods (`for_returned_goods`, reason `returned_goods`, cause = the goods receipt): per
received line, at the invoice line's unit net price and tax rate - net = cents(line total × qty /
invoiced qty), tax = cents(net × rate), half-up - and the credit that brings a line's credited
quantity to its invoiced quantity takes exactly the net and tax still uncredited, so a full return
in parts credits exactly what was invoiced; across all credit notes of an invoice never more than
invoiced per line. Its gross (net + tax) takes first what the invoice still owes (`applied`, which
may settle it: paid); the rest goes back by the settlement (refund to the payers, or the account's
credit). A payment that came from the account's credit goes back there, not to a payer."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from billing.domain.invoices import LIFECYCLE, Invoice, Line, Payment, Source
from portal_runtime.errors import InvalidInput
from portal_runtime.kernel import cents

log = logging.getLogger(__name__)

ZERO = Decimal(0)
ACCOUNT_CREDIT = "account_credit"  # a payment taken from the account's credit (billing.domain.ledger)


def credit_note_number(year: int, sequence: int) -> str:
    """`CN-2026-000001`: the year of issue and the position in that year's gapless series."""
    if sequence < 1:
        raise ValueError("a credit note sequence starts at 1")
    return f"CN-{year:04d}-{sequence:06d}"


class Settlement(StrEnum):
    """How what a credit note gives back reaches the customer."""

    REFUND = "refund"  # to the payer
    CREDIT = "credit"  # the account's credit, for its next invoices


class Reason(StrEnum):
    """Why billing credits: one credit note per reason and cause (`cause_id`)."""

    CANCELLED_ORDER = "cancelled_order"  # cause: the order's id
    RETURNED_GOODS = "returned_goods"  # cause: the goods receipt's id (returns.rma GoodsReceived)


@dataclass(frozen=True)
class CreditLine:
    """What a credit note gives back of an invoice line (`invoice_line_id`), or of payments taken
    (none): `line_total` net, `tax` at `tax_rate` beside it."""

    line_id: uuid.UUID
    description: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    tax_rate: Decimal = ZERO
    tax: Decimal = ZERO
    invoice_line_id: uuid.UUID | None = None

    @classmethod
    def of_invoice_line(cls, line: Line) -> CreditLine:
        """The whole of an invoice line: its quantity, unit price, net total and tax as invoiced."""
        return cls(
            line_id=uuid.uuid4(),
            invoice_line_id=line.line_id,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.line_total,
            tax_rate=line.tax_rate,
            tax=line.tax_amount,
        )

    @classmethod
    def of_payments(cls, invoice_number: str, amount: Decimal) -> CreditLine:
        return cls(
            line_id=uuid.uuid4(),
            description=f"Payments received on invoice {invoice_number} for cancelled order",
            quantity=1,
            unit_price=cents(amount),
            line_total=cents(amount),
        )


@dataclass(frozen=True)
class Refund:
    """Money to go back to the payer of one payment (with that payment's method and reference).
    Recorded only: no gateway payout is made."""

    id: uuid.UUID
    payment_id: uuid.UUID | None
    method: str
    amount: Decimal
    currency: str
    payer_reference: str
    refunded_at: datetime


@dataclass(frozen=True)
class CreditEntry:
    """A movement of an account's credit in one currency: a credit note adds (`amount` > 0); later
    an invoice paid from it takes (< 0). The balance is the sum of the account's entries."""

    id: uuid.UUID
    account_id: str
    currency: str
    amount: Decimal
    kind: str  # "credit_note"
    at: datetime
    credit_note_id: uuid.UUID | None = None
    invoice_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CreditBalance:
    currency: str
    amount: Decimal


def refunds_of(
    payments: list[Payment],
    amount: Decimal,
    *,
    currency: str,
    now: datetime,
    returned: dict[uuid.UUID, Decimal] | None = None,
) -> list[Refund]:
    """`amount` back to the payers, taken from the latest payments first, each at most what it paid
    less what earlier credit notes gave back of it (`returned`, per payment id)."""
    refunds, _ = give_back(payments, amount, currency=currency, now=now, returned=returned, to_credit=False)
    return refunds


def give_back(
    payments: list[Payment],
    amount: Decimal,
    *,
    currency: str,
    now: datetime,
    returned: dict[uuid.UUID, Decimal] | None = None,
    to_credit: bool = True,
) -> tuple[list[Refund], Decimal]:
    """`amount` back by the payments that brought it, latest first: a refund to the payer of each,
    but what a payment from the account's credit paid goes back to that credit (the second value)
    when `to_credit`. Never more than the payments took, less what went back of them before."""
    returned = returned or {}
    refunds, credit, left = [], ZERO, cents(amount)
    for payment in reversed(payments):
        if left <= 0:
            break
        part = min(payment.amount - returned.get(payment.id, ZERO), left)
        if part <= 0:
            continue
        if to_credit and payment.method == ACCOUNT_CREDIT:
            credit += part
        else:
            refunds.append(
                Refund(
                    id=uuid.uuid4(),
                    payment_id=payment.id,
                    method=payment.method,
                    amount=part,
                    currency=currency,
                    payer_reference=payment.payer_reference,
                    refunded_at=now,
                )
            )
        left -= part
    if left > 0:
        raise InvalidInput(f"a refund of {amount} {currency} exceeds what was paid", field="refunded")
    return refunds, credit


@dataclass(frozen=True)
class CreditNoteIssued:
    """Domain event: the credit note as issued (mapped to the contract's CreditNoteIssued)."""

    credit_note: CreditNote


@dataclass
class CreditNote:
    id: uuid.UUID
    number: str
    invoice_id: uuid.UUID
    invoice_number: str
    account_id: str
    source: Source  # the invoice's: an order's invoice names the order
    currency: str
    lines: list[CreditLine]
    reason: Reason
    cause_id: str
    settlement: Settlement
    refunded: Decimal
    credited: Decimal
    issued_at: datetime
    issued_by: str
    note: str | None = None
    refunds: list[Refund] = field(default_factory=list)
    applied: Decimal = ZERO  # what it took off the invoice's balance due
    rma_id: uuid.UUID | None = None  # returned goods: the return request
    receipt_id: uuid.UUID | None = None  # returned goods: the goods receipt (= cause_id)
    receipt_number: str | None = None
    events: list[CreditNoteIssued] = field(default_factory=list, repr=False)

    @property
    def total(self) -> Decimal:
        return cents(sum((line.line_total for line in self.lines), ZERO))

    @property
    def tax_total(self) -> Decimal:
        return cents(sum((line.tax for line in self.lines), ZERO))

    @property
    def gross(self) -> Decimal:
        """What it gives back in all: net + tax (= applied + refunded + credited)."""
        return self.total + self.tax_total

    @property
    def order_id(self) -> uuid.UUID | None:
        if self.source.kind not in ("order", "renewal"):
            return None
        try:
            return uuid.UUID(self.source.id)
        except ValueError:
            return None

    @classmethod
    def issue(
        cls,
        *,
        number: str,
        invoice: Invoice,
        lines: list[CreditLine],
        reason: Reason,
        cause_id: str,
        settlement: Settlement,
        by: str,
        now: datetime,
        note: str | None = None,
        credit_note_id: uuid.UUID | None = None,
        returned: dict[uuid.UUID, Decimal] | None = None,
        rma_id: uuid.UUID | None = None,
        receipt_id: uuid.UUID | None = None,
        receipt_number: str | None = None,
    ) -> CreditNote:
        """Credit `lines` of `invoice`: the gross (net + tax) takes first what the invoice still owes
        (`applied`, taken off it here: `Invoice.apply_credit`, which may settle it); the rest is
        settled by `settlement` (refunded from the invoice's payments, latest first, or credited to
        the account). The rest is never more than the payments took less what earlier credit
        notes gave back of them (`returned`, per payment id)."""
        if not lines:
            raise InvalidInput("a credit note needs at least one line", field="lines")
        invoiced = {line.line_id: line for line in invoice.lines}
        for i, line in enumerate(lines):
            if line.quantity < 1:
                raise InvalidInput("quantity must be at least 1", field=f"lines[{i}].quantity")
            if line.line_total < 0 or line.tax < 0 or (line.invoice_line_id is None and line.line_total <= 0):
                raise InvalidInput("a credit note line gives back more than nothing", field=f"lines[{i}].line_total")
            if line.invoice_line_id is not None:
                of = invoiced.get(line.invoice_line_id)
                if of is None:
                    raise InvalidInput("not a line of the invoice", field=f"lines[{i}].invoice_line_id")
                if line.quantity > of.quantity:
                    raise InvalidInput("more than was invoiced", field=f"lines[{i}].quantity")
        note_ = cls(
            id=credit_note_id or uuid.uuid4(),
            number=number,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            account_id=invoice.account_id,
            source=invoice.source,
            currency=invoice.currency,
            lines=list(lines),
            reason=reason,
            cause_id=cause_id,
            settlement=settlement,
            refunded=ZERO,
            credited=ZERO,
            issued_at=now,
            issued_by=by,
            note=note,
            rma_id=rma_id,
            receipt_id=receipt_id,
            receipt_number=receipt_number,
        )
        if note_.gross <= 0:
            raise InvalidInput("a credit note gives back more than nothing", field="total")
        # What the invoice still owes, for credits of its lines (a credit of payments received gives
        # money back: it takes nothing off what is owed); a voided or paid invoice owes nothing, and
        # what a payment in flight holds is not taken (`payable`: that payment must still fit).
        of_lines = all(line.invoice_line_id is not None for line in lines)
        owed = max(invoice.payable, ZERO) if of_lines and LIFECYCLE.allows(invoice.status, "settle") else ZERO
        note_.applied = cents(min(note_.gross, owed))
        rest = note_.gross - note_.applied
        returned = returned or {}
        paid_back = max(invoice.amount_paid - cents(sum(returned.values(), ZERO)), ZERO)
        if rest > paid_back and not of_lines:
            raise InvalidInput(f"a credit of {rest} exceeds the {paid_back} {invoice.currency} paid", field="total")
        # Goods credited beyond what was paid and is still owed (only while a payment is in flight):
        # that part cannot go back to a payer, it stays on the account.
        refundable = min(rest, paid_back)
        if settlement is Settlement.REFUND and refundable > 0:
            note_.refunds, back_to_credit = give_back(
                invoice.payments, refundable, currency=invoice.currency, now=now, returned=returned
            )
            note_.refunded = cents(refundable - back_to_credit)
            note_.credited = cents(rest - note_.refunded)
        else:
            note_.credited = cents(rest)
        invoice.apply_credit(note_.applied, by=by, now=now, note=f"credit note {number}")
        note_.events.append(CreditNoteIssued(note_))
        return note_

    def credit_entry(self) -> CreditEntry | None:
        """The account credit this credit note adds (none when it was refunded)."""
        if self.credited <= 0:
            return None
        return CreditEntry(
            id=uuid.uuid4(),
            account_id=self.account_id,
            currency=self.currency,
            amount=self.credited,
            kind="credit_note",
            at=self.issued_at,
            credit_note_id=self.id,
            invoice_id=self.invoice_id,
        )


def for_cancelled_order(
    invoice: Invoice,
    *,
    order_id: uuid.UUID,
    number: str,
    settlement: Settlement | str | None,
    paid_in_full: bool,
    by: str,
    now: datetime,
    note: str | None = None,
) -> CreditNote | None:
    """The credit note of an order cancelled after money was paid on its invoice (None when
    nothing was paid): every line when it was paid in full (`paid_in_full`: its status before the
    cancellation voided it, if it did), else the payments received. Settled by `settlement`,
    by default `credit`."""
    if invoice.amount_paid <= 0:
        return None
    if paid_in_full:
        lines = [CreditLine.of_invoice_line(line) for line in invoice.lines if line.line_total > 0]
    else:
        lines = [CreditLine.of_payments(invoice.number, invoice.amount_paid)]
    return CreditNote.issue(
        number=number,
        invoice=invoice,
        lines=lines,
        reason=Reason.CANCELLED_ORDER,
        cause_id=str(order_id),
        settlement=Settlement(settlement or Settlement.CREDIT),
        by=by,
        now=now,
        note=note,
    )
