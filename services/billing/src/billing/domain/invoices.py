"""An invoice: issued once per approved request, numbered without gaps per year, paid in one
or more payments until nothing is due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from billing.domain.events import InvoiceIssued, InvoicePaid, PaymentRecorded, PaymentRejected
from portal_runtime.errors import InvalidInput
from portal_runtime.kernel import cents
from portal_runtime.lifecycle import InvalidTransition, Lifecycle

PAYMENT_TERMS_DAYS = 14
METHODS = ("card", "bank_transfer", "paypal")


def invoice_number(year: int, sequence: int) -> str:
    """`INV-2026-000001`: the year of issue and the position in that year's gapless series."""
    if sequence < 1:
        raise ValueError("an invoice sequence starts at 1")
    return f"INV-{year:04d}-{sequence:06d}"


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_price: Decimal
    item_id: uuid.UUID | None = None
    currency: str | None = None  # when given, must be the invoice's

    @property
    def line_total(self) -> Decimal:
        return cents(self.unit_price * self.quantity)


@dataclass(frozen=True)
class Instruction:
    method: str
    details: dict[str, str]


@dataclass(frozen=True)
class Payment:
    id: uuid.UUID
    method: str
    amount: Decimal
    currency: str
    payer_reference: str
    paid_at: datetime
    recorded_by: str
    card_brand: str | None = None
    card_last4: str | None = None
    gateway_reference: str | None = None


class Status(StrEnum):
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"


# "pay" leaves something due, "settle" pays what is due; a paid invoice takes neither.
LIFECYCLE = Lifecycle(
    "invoice",
    {
        (Status.ISSUED, "pay"): Status.PARTIALLY_PAID,
        (Status.ISSUED, "settle"): Status.PAID,
        (Status.PARTIALLY_PAID, "pay"): Status.PARTIALLY_PAID,
        (Status.PARTIALLY_PAID, "settle"): Status.PAID,
    },
)


class PaidAlready(InvalidTransition):
    """A payment for an invoice that takes no more (409 with current_status), named by its number."""

    def __init__(self, number: str, current: Status) -> None:
        super().__init__(LIFECYCLE.kind, "pay", current)
        self.message = f"invoice {number} is {current} already"
        self.args = (self.message,)


@dataclass
class Invoice:
    id: uuid.UUID
    number: str
    account_id: str
    request_id: uuid.UUID | None
    currency: str
    lines: list[Line]
    issued_at: datetime
    due_on: date
    instructions: list[Instruction]
    payments: list[Payment] = field(default_factory=list)
    status: Status = Status.ISSUED
    events: list[InvoiceIssued | PaymentRecorded | InvoicePaid | PaymentRejected] = field(
        default_factory=list, repr=False
    )

    @classmethod
    def issue(
        cls,
        *,
        number: str,
        account_id: str,
        request_id: uuid.UUID | None,
        currency: str,
        lines: list[Line],
        expected_total: Decimal | None,
        instructions: list[Instruction],
        now: datetime,
        invoice_id: uuid.UUID | None = None,
    ) -> Invoice:
        if not account_id:
            raise InvalidInput("an invoice needs an account", field="account_id")
        if not lines:
            raise InvalidInput("an invoice needs at least one line", field="lines")
        for i, line in enumerate(lines):
            if line.quantity < 1:
                raise InvalidInput("quantity must be at least 1", field=f"lines[{i}].quantity")
            if line.unit_price < 0:
                raise InvalidInput("unit price must not be negative", field=f"lines[{i}].unit_price")
            if line.currency is not None and line.currency != currency:
                raise InvalidInput(
                    f"line in {line.currency} on an invoice in {currency}", field=f"lines[{i}].unit_price.currency"
                )
        invoice = cls(
            id=invoice_id or uuid.uuid4(),
            number=number,
            account_id=account_id,
            request_id=request_id,
            currency=currency,
            lines=list(lines),
            issued_at=now,
            due_on=now.date() + timedelta(days=PAYMENT_TERMS_DAYS),
            instructions=list(instructions),
        )
        if expected_total is not None and cents(expected_total) != invoice.total:
            raise InvalidInput(f"the lines add up to {invoice.total} {currency}, not {expected_total}", field="total")
        if invoice.total <= 0:
            invoice.status = Status.PAID  # nothing is owed (free items only): there is nothing to pay
        invoice.events.append(
            InvoiceIssued(
                invoice_id=invoice.id,
                number=invoice.number,
                account_id=invoice.account_id,
                request_id=invoice.request_id,
                currency=invoice.currency,
                lines=tuple(invoice.lines),
                total=invoice.total,
                due_on=invoice.due_on,
                instructions=tuple(invoice.instructions),
                issued_at=invoice.issued_at,
            )
        )
        return invoice

    # -- what is owed ------------------------------------------------------------------------
    @property
    def total(self) -> Decimal:
        return cents(sum((line.line_total for line in self.lines), Decimal(0)))

    @property
    def amount_paid(self) -> Decimal:
        return cents(sum((p.amount for p in self.payments), Decimal(0)))

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.amount_paid

    # -- paying ------------------------------------------------------------------------------
    def check_payment(self, *, amount: Decimal, currency: str) -> None:
        """May this amount be paid now? Asked before any money moves; changes nothing."""
        if not LIFECYCLE.allows(self.status, "pay"):
            raise PaidAlready(self.number, self.status)
        if currency != self.currency:
            raise InvalidInput(f"invoice {self.number} is in {self.currency}, not {currency}", field="currency")
        if amount <= 0:
            raise InvalidInput("amount must be more than zero", field="amount")
        if amount != cents(amount):
            raise InvalidInput("amount has at most two decimal places", field="amount")
        if amount > self.balance_due:
            raise InvalidInput(
                f"amount {amount} exceeds the balance due of {self.balance_due} {self.currency}",
                field="amount",
                balance_due=str(self.balance_due),
            )

    def record_payment(self, payment: Payment, *, now: datetime) -> None:
        """Take a payment that moved money: "settle" when it pays what is due, else "pay"."""
        self.check_payment(amount=payment.amount, currency=payment.currency)
        self.status = LIFECYCLE.target(self.status, "settle" if payment.amount == self.balance_due else "pay")
        self.payments.append(payment)
        self.events.append(
            PaymentRecorded(
                invoice_id=self.id,
                number=self.number,
                account_id=self.account_id,
                request_id=self.request_id,
                currency=self.currency,
                payment=payment,
                amount_paid=self.amount_paid,
                balance_due=self.balance_due,
                status=self.status,
            )
        )
        if self.status is Status.PAID:
            self.events.append(
                InvoicePaid(
                    invoice_id=self.id,
                    number=self.number,
                    account_id=self.account_id,
                    request_id=self.request_id,
                    currency=self.currency,
                    amount_paid=self.amount_paid,
                    at=now,
                )
            )

    def payment_failed(self, *, method: str, reason: str, now: datetime) -> None:
        """A declined attempt: the invoice stays as it was; the failure is still told."""
        self.events.append(
            PaymentRejected(invoice_id=self.id, account_id=self.account_id, method=method, reason=reason, at=now)
        )


@dataclass(frozen=True)
class InvoiceSummary:
    """An invoice as listed: what is owed, without lines and payments."""

    id: uuid.UUID
    number: str
    account_id: str
    request_id: uuid.UUID | None
    currency: str
    total: Decimal
    amount_paid: Decimal
    status: Status
    issued_at: datetime
    due_on: date

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.amount_paid
