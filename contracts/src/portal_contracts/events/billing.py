"""Events billing publishes about invoices and payments."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from portal_contracts.base import Event, Money, event


class InvoiceLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    description: str
    quantity: int
    unit_price: Money
    line_total: Money


class PaymentInstruction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    method: str
    details: dict[str, str]


@event(topic="billing.invoices", version=1, key="invoice_id")
class InvoiceIssued(Event):
    invoice_id: uuid.UUID
    number: str
    account_id: str
    request_id: uuid.UUID | None = None
    lines: list[InvoiceLine]
    total: Money
    due_on: date
    payment_instructions: list[PaymentInstruction]
    issued_at: AwareDatetime


@event(topic="billing.invoices", version=1, key="invoice_id")
class PaymentReceived(Event):
    """One payment was recorded against the invoice; `balance_due` says what is still owed
    (zero when this payment settled it, and then PaymentConfirmed follows). The payer's
    reference and card details stay in billing."""

    invoice_id: uuid.UUID
    number: str
    account_id: str
    request_id: uuid.UUID | None = None
    payment_id: uuid.UUID
    method: str
    amount: Money
    amount_paid: Money
    balance_due: Money
    invoice_status: Literal["partially_paid", "paid"]
    received_at: AwareDatetime


@event(topic="billing.invoices", version=1, key="invoice_id")
class PaymentConfirmed(Event):
    """The invoice is paid in full."""

    invoice_id: uuid.UUID
    number: str
    account_id: str
    request_id: uuid.UUID | None = None
    amount_paid: Money
    confirmed_at: AwareDatetime


@event(topic="billing.invoices", version=1, key="invoice_id")
class PaymentFailed(Event):
    invoice_id: uuid.UUID
    account_id: str
    method: str
    reason: str
    failed_at: AwareDatetime
