"""An invoice: issued once per approved request, numbered without gaps per year, paid in one
or more payments until nothing is due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from portal_runtime.errors import Conflict, InvalidInput

CENT = Decimal("0.01")
PAYMENT_TERMS_DAYS = 14
METHODS = ("card", "bank_transfer", "paypal")
STATUSES = ("issued", "partially_paid", "paid")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


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


# Changes an invoice records; adapters/events.py maps them to contract events.
@dataclass(frozen=True)
class Issued:
    pass


@dataclass(frozen=True)
class PaymentRecorded:
    """A payment, with what was paid and still due right after it."""

    payment: Payment
    amount_paid: Decimal
    balance_due: Decimal


@dataclass(frozen=True)
class Paid:
    pass


@dataclass(frozen=True)
class PaymentRejected:
    method: str
    reason: str


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
    changes: list[object] = field(default_factory=list, repr=False)

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
        invoice.changes.append(Issued())
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

    @property
    def status(self) -> str:
        if self.amount_paid >= self.total:
            return "paid"
        return "partially_paid" if self.amount_paid > 0 else "issued"

    # -- paying ------------------------------------------------------------------------------
    def check_payment(self, *, amount: Decimal, currency: str) -> None:
        """May this amount be paid now? Asked before any money moves; changes nothing."""
        if self.status == "paid":
            raise Conflict(f"invoice {self.number} is paid already", current_status=self.status)
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

    def record_payment(self, payment: Payment) -> None:
        self.check_payment(amount=payment.amount, currency=payment.currency)
        self.payments.append(payment)
        self.changes.append(PaymentRecorded(payment, self.amount_paid, self.balance_due))
        if self.status == "paid":
            self.changes.append(Paid())

    def payment_failed(self, *, method: str, reason: str) -> None:
        """A declined attempt: the invoice stays as it was; the failure is still told."""
        self.changes.append(PaymentRejected(method=method, reason=reason))


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
    status: str
    issued_at: datetime
    due_on: date

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.amount_paid
