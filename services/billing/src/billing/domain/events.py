"""What happens to an invoice, and to an account's prepaid units, as the domain says it (typed;
mapped to contract events in `billing.adapters.events`). Each event is a snapshot: it shows the
invoice (wallet, purchase) as it stood right after the change, whatever happens to it later in
the same unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the value objects live beside the aggregate
    from billing.domain.invoices import BillTo, Instruction, Line, Payment, Source, Status
    from billing.domain.units import LedgerEntry, UnitPurchase


@dataclass(frozen=True)
class InvoiceIssued:
    invoice_id: uuid.UUID
    number: str
    account_id: str
    request_id: uuid.UUID | None
    source: Source
    currency: str
    lines: tuple[Line, ...]
    total: Decimal
    due_on: date
    instructions: tuple[Instruction, ...]
    issued_at: datetime
    bill_to: BillTo | None = None


@dataclass(frozen=True)
class PaymentRecorded:
    """A payment, with what was paid and still due right after it, and the status it left."""

    invoice_id: uuid.UUID
    number: str
    account_id: str
    request_id: uuid.UUID | None
    currency: str
    payment: Payment
    amount_paid: Decimal
    balance_due: Decimal
    status: Status
    source_kind: str | None = None  # what the invoice is for (its Source's kind)


@dataclass(frozen=True)
class InvoicePaid:
    """The payment just recorded settled the invoice."""

    invoice_id: uuid.UUID
    number: str
    account_id: str
    request_id: uuid.UUID | None
    currency: str
    amount_paid: Decimal
    at: datetime


@dataclass(frozen=True)
class PaymentRejected:
    """A declined attempt: the invoice stays as it was; the failure is still told."""

    invoice_id: uuid.UUID
    account_id: str
    method: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class InvoiceVoided:
    """The invoice will not be paid (its order was cancelled): `reason` as the cancellation's."""

    invoice_id: uuid.UUID
    number: str
    account_id: str
    source: Source
    reason: str
    at: datetime


# -- prepaid units (billing.domain.units) --------------------------------------------------------


@dataclass(frozen=True)
class UnitsCredited:
    """Units were added to a wallet (granted, purchased or adjusted upwards): the entry says how."""

    entry: LedgerEntry


@dataclass(frozen=True)
class UnitsBalanceLow:
    """A debit took the balance from above the wallet's low level to at or below it."""

    account_id: str
    balance: int
    low_balance_at: int
    at: datetime


@dataclass(frozen=True)
class UnitsBalanceDepleted:
    """A debit took the balance from above zero to zero or below."""

    account_id: str
    balance: int
    at: datetime


@dataclass(frozen=True)
class UnitsPurchased:
    """A purchase was charged and its units credited: the purchase as it stood then."""

    purchase: UnitPurchase
    balance_after: int


@dataclass(frozen=True)
class UnitsPurchaseFailed:
    """A purchase by hand was declined: nothing credited, its invoice voided."""

    purchase: UnitPurchase
