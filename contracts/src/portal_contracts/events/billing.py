"""Events billing publishes about invoices and payments."""

from __future__ import annotations

import uuid
from datetime import date

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
