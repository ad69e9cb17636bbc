"""An invoice: issued once per source (an approved service request, an order, a renewal for a
billing period, a unit top-up, ...), numbered without gaps per year, paid in one or more payments
until nothing is due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from billing.domain.events import InvoiceIssued, InvoicePaid, InvoiceVoided, PaymentRecorded, PaymentRejected
from portal_runtime.errors import InvalidInput
from portal_runtime.kernel import cents
from portal_runtime.lifecycle import InvalidTransition, Lifecycle, Transition

PAYMENT_TERMS_DAYS = 14
ZERO = Decimal(0)
METHODS = ("card", "bank_transfer", "paypal")


def invoice_number(year: int, sequence: int) -> str:
    """`INV-2026-000001`: the year of issue and the position in that year's gapless series."""
    if sequence < 1:
        raise ValueError("an invoice sequence starts at 1")
    return f"INV-{year:04d}-{sequence:06d}"


class SourceKind(StrEnum):
    """What an invoice bills for. Other services' sources are added here as they come."""

    SERVICE_REQUEST = "service_request"
    ORDER = "order"
    RENEWAL = "renewal"
    UNIT_TOP_UP = "unit_top_up"


@dataclass(frozen=True)
class Source:
    """What an invoice is for: one invoice per source, and per billing period where there is one."""

    kind: str  # a SourceKind value (tests may name kinds of their own)
    id: str
    period_start: date | None = None
    period_end: date | None = None

    def __post_init__(self) -> None:
        if not str(self.kind).strip() or len(self.kind) > 32:
            raise InvalidInput("an invoice source needs a kind (at most 32 characters)", field="source_kind")
        if not str(self.id).strip() or len(self.id) > 200:
            raise InvalidInput("an invoice source needs an id (at most 200 characters)", field="source_id")
        if self.kind == SourceKind.SERVICE_REQUEST and self.request_id is None:
            raise InvalidInput("a service request is named by its id (a UUID)", field="source_id")
        if (self.period_start is None) != (self.period_end is None):
            raise InvalidInput("a billing period has a start and an end", field="period_end")
        if self.period_start is not None and self.period_end < self.period_start:
            raise InvalidInput("a billing period ends on or after its start", field="period_end")

    @classmethod
    def service_request(cls, request_id: uuid.UUID) -> Source:
        return cls(SourceKind.SERVICE_REQUEST.value, str(request_id))

    @property
    def request_id(self) -> uuid.UUID | None:
        """The service request's id, for readers that know invoices by request only."""
        if self.kind != SourceKind.SERVICE_REQUEST:
            return None
        try:
            return uuid.UUID(self.id)
        except ValueError:
            return None


@dataclass(frozen=True)
class Line:
    """`amount`, when given, is the line's total as its source computed it (an order's prorated
    add-on costs less than its unit price); else the total is unit price × quantity.
    `subscription_id` and `period_start`..`period_end` (end exclusive: the next due date) name the
    client-area service and the period an order's line pays for."""

    description: str
    quantity: int
    unit_price: Decimal
    item_id: uuid.UUID | None = None
    currency: str | None = None  # when given, must be the invoice's
    sku: str | None = None
    line_id: uuid.UUID | None = None  # given on issue when not before
    tax_rate: Decimal = ZERO  # a fraction (0.19); an order's line: its item's rate when placed
    amount: Decimal | None = None
    subscription_id: uuid.UUID | None = None
    period_start: date | None = None
    period_end: date | None = None

    @property
    def line_total(self) -> Decimal:
        return cents(self.unit_price * self.quantity if self.amount is None else self.amount)

    @property
    def tax_amount(self) -> Decimal:
        return cents(self.line_total * self.tax_rate)


@dataclass(frozen=True)
class BillTo:
    """Whom an invoice is addressed to when the account named a billing contact and address (an
    automatic unit plan's invoices): printed on the invoice; the contact receives it."""

    name: str
    email: str
    line1: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    company: str | None = None
    line2: str | None = None


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


@dataclass(frozen=True)
class Reservation:
    """An amount held for a payment whose money is moving (the gateway is being asked): counted
    as paid for what another payment may take, until it is recorded or released."""

    id: uuid.UUID
    amount: Decimal
    method: str
    reserved_at: datetime


class Status(StrEnum):
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOIDED = "voided"


# "pay" leaves something due, "settle" pays what is due; a paid invoice takes neither. "void":
# what is still due will not be asked for (its order was cancelled); a voided invoice takes nothing.
LIFECYCLE = Lifecycle(
    "invoice",
    {
        (Status.ISSUED, "pay"): Status.PARTIALLY_PAID,
        (Status.ISSUED, "settle"): Status.PAID,
        (Status.ISSUED, "void"): Status.VOIDED,
        (Status.PARTIALLY_PAID, "pay"): Status.PARTIALLY_PAID,
        (Status.PARTIALLY_PAID, "settle"): Status.PAID,
        (Status.PARTIALLY_PAID, "void"): Status.VOIDED,
    },
)


class PaidAlready(InvalidTransition):
    """A payment for an invoice that takes no more (409 with current_status), named by its number."""

    def __init__(self, number: str, current: Status) -> None:
        super().__init__(LIFECYCLE.kind, "pay", current)
        paid = current is Status.PAID
        self.message = f"invoice {number} is {current} already" if paid else f"invoice {number} is {current}"
        self.args = (self.message,)


@dataclass
class Invoice:
    id: uuid.UUID
    number: str
    account_id: str
    source: Source
    currency: str
    lines: list[Line]
    issued_at: datetime
    due_on: date
    instructions: list[Instruction]
    payments: list[Payment] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    status: Status = Status.ISSUED
    bill_to: BillTo | None = None
    # What credit notes took off what it owes (returned goods: `billing.domain.credit_notes`).
    amount_credited: Decimal = ZERO
    # The moves of its lifecycle made since it was loaded (history rows, appended on save).
    history: list[Transition[Status]] = field(default_factory=list)
    events: list[InvoiceIssued | PaymentRecorded | InvoicePaid | PaymentRejected | InvoiceVoided] = field(
        default_factory=list, repr=False
    )

    @classmethod
    def issue(
        cls,
        *,
        number: str,
        account_id: str,
        currency: str,
        lines: list[Line],
        expected_total: Decimal | None,
        instructions: list[Instruction],
        now: datetime,
        source: Source | None = None,
        request_id: uuid.UUID | None = None,
        invoice_id: uuid.UUID | None = None,
        due_on: date | None = None,
        bill_to: BillTo | None = None,
    ) -> Invoice:
        """For `source`; `request_id` alone names a service request as the source (as before).
        Due `PAYMENT_TERMS_DAYS` after issue unless the source names the day (`due_on`);
        addressed to `bill_to` when given."""
        if not account_id:
            raise InvalidInput("an invoice needs an account", field="account_id")
        if not lines:
            raise InvalidInput("an invoice needs at least one line", field="lines")
        for i, line in enumerate(lines):
            if line.quantity < 1:
                raise InvalidInput("quantity must be at least 1", field=f"lines[{i}].quantity")
            if line.unit_price < 0:
                raise InvalidInput("unit price must not be negative", field=f"lines[{i}].unit_price")
            if line.amount is not None and line.amount < 0:
                raise InvalidInput("a line's amount must not be negative", field=f"lines[{i}].amount")
            if line.currency is not None and line.currency != currency:
                raise InvalidInput(
                    f"line in {line.currency} on an invoice in {currency}", field=f"lines[{i}].unit_price.currency"
                )
            if line.tax_rate < 0:
                raise InvalidInput("tax rate must not be negative", field=f"lines[{i}].tax_rate")
            if line.sku is not None and not 0 < len(line.sku) <= 100:
                raise InvalidInput("a SKU has 1 to 100 characters", field=f"lines[{i}].sku")
        if source is None and request_id is None:
            raise InvalidInput("an invoice needs a source", field="source_kind")
        source = source or Source.service_request(request_id)
        ids = [line.line_id for line in lines if line.line_id is not None]
        if len(set(ids)) != len(ids):
            raise InvalidInput("two lines have one line id", field="lines")
        invoice = cls(
            id=invoice_id or uuid.uuid4(),
            number=number,
            account_id=account_id,
            source=source,
            currency=currency,
            lines=[line if line.line_id else replace(line, line_id=uuid.uuid4()) for line in lines],
            issued_at=now,
            due_on=due_on or now.date() + timedelta(days=PAYMENT_TERMS_DAYS),
            instructions=list(instructions),
            bill_to=bill_to,
        )
        if expected_total is not None and cents(expected_total) != invoice.net_total:  # the source's net total
            raise InvalidInput(
                f"the lines add up to {invoice.net_total} {currency}, not {expected_total}", field="total"
            )
        if invoice.total <= 0:
            invoice.status = Status.PAID  # nothing is owed (free items only): there is nothing to pay
        invoice.events.append(
            InvoiceIssued(
                invoice_id=invoice.id,
                number=invoice.number,
                account_id=invoice.account_id,
                request_id=invoice.request_id,
                source=invoice.source,
                currency=invoice.currency,
                lines=tuple(invoice.lines),
                total=invoice.total,
                due_on=invoice.due_on,
                instructions=tuple(invoice.instructions),
                issued_at=invoice.issued_at,
                bill_to=invoice.bill_to,
            )
        )
        return invoice

    @property
    def request_id(self) -> uuid.UUID | None:
        return self.source.request_id

    # -- what is owed ------------------------------------------------------------------------
    @property
    def net_total(self) -> Decimal:
        """Σ the lines' net totals (what an order's `total` is: `expected_total` checks this)."""
        return cents(sum((line.line_total for line in self.lines), Decimal(0)))

    @property
    def tax_total(self) -> Decimal:
        """Σ the lines' tax, each cents(line_total × tax_rate) half-up."""
        return cents(sum((line.tax_amount for line in self.lines), Decimal(0)))

    @property
    def total(self) -> Decimal:
        """What the invoice charges: net plus tax (an untaxed invoice: its net)."""
        return self.net_total + self.tax_total

    @property
    def amount_paid(self) -> Decimal:
        return cents(sum((p.amount for p in self.payments), Decimal(0)))

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.amount_paid - self.amount_credited

    @property
    def amount_reserved(self) -> Decimal:
        return cents(sum((r.amount for r in self.reservations), Decimal(0)))

    @property
    def payable(self) -> Decimal:
        """What another payment may take now: the balance due less what payments in flight hold."""
        return self.balance_due - self.amount_reserved

    # -- paying ------------------------------------------------------------------------------
    def reserve(self, reservation: Reservation, *, currency: str) -> None:
        """Hold `reservation.amount` for a payment about to move money (checked as a payment is)."""
        self.check_payment(amount=reservation.amount, currency=currency)
        self.reservations.append(reservation)

    def release(self, reservation_id: uuid.UUID) -> Reservation | None:
        """Give a held amount back (the payment was declined or could not be made)."""
        held = next((r for r in self.reservations if r.id == reservation_id), None)
        if held is not None:
            self.reservations.remove(held)
        return held

    def check_payment(self, *, amount: Decimal, currency: str) -> None:
        """May this amount be paid now? Asked before any money moves; changes nothing. What
        payments in flight hold (reservations) is not available."""
        if not LIFECYCLE.allows(self.status, "pay"):
            raise PaidAlready(self.number, self.status)
        if currency != self.currency:
            raise InvalidInput(f"invoice {self.number} is in {self.currency}, not {currency}", field="currency")
        if amount <= 0:
            raise InvalidInput("amount must be more than zero", field="amount")
        if amount != cents(amount):
            raise InvalidInput("amount has at most two decimal places", field="amount")
        if amount > self.payable:
            raise InvalidInput(
                f"amount {amount} exceeds the balance due of {self.payable} {self.currency}",
                field="amount",
                balance_due=str(self.payable),
            )

    def record_payment(self, payment: Payment, *, now: datetime, reservation_id: uuid.UUID | None = None) -> None:
        """Take a payment that moved money: "settle" when it pays what is due, else "pay". The
        reservation it was made under, if any, becomes the payment (checked again without it)."""
        held = self.release(reservation_id) if reservation_id is not None else None
        try:
            self.check_payment(amount=payment.amount, currency=payment.currency)
        except Exception:
            if held is not None:
                self.reservations.append(held)
            raise
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
                source_kind=self.source.kind,
            )
        )
        if self.status is Status.PAID:
            self._paid(now)

    # -- credited ----------------------------------------------------------------------------
    def apply_credit(self, amount: Decimal, *, by: str, now: datetime, note: str | None = None) -> None:
        """A credit note takes `amount` off what the invoice still owes (at most its balance due; an
        invoice that takes no payment takes no credit). When nothing is due after it, the invoice is
        settled: paid, with InvoicePaid as a payment settling it would have."""
        if amount <= 0:
            return
        if not LIFECYCLE.allows(self.status, "settle"):
            raise InvalidInput(f"invoice {self.number} is {self.status}: it owes nothing", field="applied")
        if amount > self.balance_due:
            raise InvalidInput(
                f"a credit of {amount} exceeds the balance due of {self.balance_due} {self.currency}", field="applied"
            )
        self.amount_credited = cents(self.amount_credited + amount)
        if self.balance_due == 0:
            step = LIFECYCLE.move(self.status, "settle", by=by, at=now, note=note)
            self.status = step.to_status
            self.history.append(step)
            self._paid(now)

    def _paid(self, now: datetime) -> None:
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

    # -- voiding ------------------------------------------------------------------------------
    @property
    def voidable(self) -> bool:
        """Not paid in full, and not voided already."""
        return LIFECYCLE.allows(self.status, "void")

    def void(self, *, reason: str, by: str, now: datetime) -> None:
        """What is still due will not be asked for: the invoice takes no payment from now on
        (payments it took stay recorded). A paid or voided invoice refuses (409)."""
        step = LIFECYCLE.move(self.status, "void", by=by, at=now, note=reason)
        self.status = step.to_status
        self.history.append(step)
        self.events.append(
            InvoiceVoided(
                invoice_id=self.id,
                number=self.number,
                account_id=self.account_id,
                source=self.source,
                reason=reason,
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
    source: Source
    currency: str
    total: Decimal
    amount_paid: Decimal
    status: Status
    issued_at: datetime
    due_on: date
    amount_credited: Decimal = ZERO

    @property
    def request_id(self) -> uuid.UUID | None:
        return self.source.request_id

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.amount_paid - self.amount_credited
