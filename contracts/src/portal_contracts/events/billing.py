"""Events billing publishes about invoices and payments."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from portal_contracts.base import DecimalString, Event, Money, event


class InvoiceLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    description: str
    quantity: int
    unit_price: Money
    line_total: Money


class InvoiceLineV2(BaseModel):
    """One line of InvoiceIssued v2: `line_id` names it (returns refer to it); `item_id` and `sku`
    are the catalog's where known; `tax_rate` is a fraction (0.19 is 19 %), 0 today, and `tax`
    the line's tax amount."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    line_id: uuid.UUID
    description: str
    item_id: uuid.UUID | None = None
    sku: str | None = None
    quantity: int
    unit_price: Money
    line_total: Money
    tax_rate: DecimalString
    tax: Money
    subscription_id: uuid.UUID | None = Field(
        default=None, description="the client-area service the line is for (order and renewal invoices)"
    )
    period_start: date | None = Field(default=None, description="the first day the line pays for")
    period_end: date | None = Field(default=None, description="the day after the last it pays for (the next due date)")


class PaymentInstruction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    method: str
    details: dict[str, str]


@event(topic="billing.invoices", version=1, key="invoice_id")
class InvoiceIssued(Event):
    """Version 1, still published beside version 2 for its readers (orders, notify): invoices
    of service requests as they were (`request_id`; lines without ids). Prefer version 2."""

    invoice_id: uuid.UUID
    number: str
    account_id: str
    request_id: uuid.UUID | None = None
    lines: list[InvoiceLine]
    total: Money
    due_on: date
    payment_instructions: list[PaymentInstruction]
    issued_at: AwareDatetime


@event(topic="billing.invoices", version=2, key="invoice_id")
class InvoiceIssuedV2(Event):
    """An invoice for any source: `source_kind` (service_request, order, renewal, unit_top_up,
    ...) and `source_id`, with the billing period where there is one; lines with ids, catalog
    item and SKU, and tax. `request_id` is set when the source is a service request. Published
    right after version 1 of the same invoice (same event key, so in order)."""

    invoice_id: uuid.UUID
    number: str
    account_id: str
    source_kind: str
    source_id: str
    period_start: date | None = None
    period_end: date | None = None
    request_id: uuid.UUID | None = None
    currency: str
    lines: list[InvoiceLineV2]
    total: Money
    tax_total: Money
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


@event(topic="billing.invoices", version=1, key="invoice_id")
class InvoiceVoided(Event):
    """An unpaid invoice will not be paid: its order was cancelled (`reason` as the order's
    cancellation: unpaid, terminated, admin). A payment on it is refused from now on."""

    invoice_id: uuid.UUID
    number: str
    account_id: str
    source_kind: str
    source_id: str
    reason: str
    voided_at: AwareDatetime
