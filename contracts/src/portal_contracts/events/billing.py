"""Events billing publishes about invoices and payments (`billing.invoices`), and about the prepaid
units of every account's wallet (`billing.units`): units are bought in packages (catalog items of
kind `unit_package`), by hand or by an account's automatic plan, and never expire."""

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


class BillTo(BaseModel):
    """Whom an invoice is addressed to when the account gave a billing address and contact (an
    automatic unit plan's invoices): printed on the invoice, and the contact receives it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = Field(description="the billing contact's name")
    email: str = Field(description="the billing contact's email: the invoice goes there")
    company: str | None = None
    line1: str
    line2: str | None = None
    postal_code: str
    city: str
    country: str = Field(description="ISO 3166-1 alpha-2")


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
    bill_to: BillTo | None = Field(default=None, description="set when the invoice is addressed to a billing contact")


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
    source_kind: str | None = Field(
        default=None, description="what the invoice is for, as InvoiceIssued v2 says (absent before it was added)"
    )


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


# ---------------------------------------------------------------- billing.units: prepaid units

PurchaseSource = Literal["manual", "plan"]


class BillingContact(BaseModel):
    """Who receives an automatic plan's invoices and notices."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    email: str


class PurchasedPackage(BaseModel):
    """One line of a purchase: `quantity` packages of `units` units each."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    item_id: uuid.UUID
    sku: str
    name: str
    units: int = Field(ge=1, description="units in one package")
    quantity: int = Field(ge=1)
    unit_price: Money
    amount: Money


@event(topic="billing.units", version=1, key="account_id")
class UnitsCredited(Event):
    """Units were added to an account's wallet: the initial grant (`granted`, no invoice), a
    purchase by hand or by the plan (`purchased`, with its purchase and invoice), or an admin's
    correction upwards (`adjusted`). `balance_after` is the wallet's balance right after it."""

    account_id: str
    entry_id: uuid.UUID
    kind: Literal["granted", "purchased", "adjusted"]
    units: int = Field(ge=1)
    balance_after: int
    purchase_id: uuid.UUID | None = None
    source: PurchaseSource | None = Field(default=None, description="a purchase's: manual or plan")
    invoice_id: uuid.UUID | None = None
    credited_at: AwareDatetime


@event(topic="billing.units", version=1, key="account_id")
class UnitsPurchased(Event):
    """A purchase was charged and its units credited (one charge, one paid invoice): by hand
    (`manual`) or a top-up of the automatic plan (`plan`, sent to the plan's billing contact too)."""

    account_id: str
    purchase_id: uuid.UUID
    source: PurchaseSource
    invoice_id: uuid.UUID
    invoice_number: str
    lines: list[PurchasedPackage]
    units: int = Field(ge=1, description="units credited in all")
    total: Money
    card_brand: str | None = None
    card_last4: str | None = None
    balance_after: int
    billing_contact: BillingContact | None = None
    purchased_at: AwareDatetime


@event(topic="billing.units", version=1, key="account_id")
class UnitsPurchaseFailed(Event):
    """A purchase by hand was declined: nothing was credited and its invoice was voided."""

    account_id: str
    purchase_id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str
    total: Money
    reason: str
    failed_at: AwareDatetime


@event(topic="billing.units", version=1, key="account_id")
class UnitsTopUpFailed(Event):
    """The automatic plan's charge was declined: nothing was credited, its invoice was voided.
    `next_attempt_at` is when the plan tries again (None once the plan is paused: `plan_paused`)."""

    account_id: str
    purchase_id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str
    total: Money
    reason: str
    declines_in_a_row: int = Field(ge=1)
    next_attempt_at: AwareDatetime | None = None
    plan_paused: bool = False
    billing_contact: BillingContact | None = None
    failed_at: AwareDatetime


@event(topic="billing.units", version=1, key="account_id")
class UnitsPlanPaused(Event):
    """The automatic plan stopped topping up after `declines_in_a_row` declines in a row; saving a
    new card resumes it."""

    account_id: str
    reason: Literal["declined"]
    declines_in_a_row: int = Field(ge=1)
    billing_contact: BillingContact | None = None
    paused_at: AwareDatetime


@event(topic="billing.units", version=1, key="account_id")
class UnitsCapReached(Event):
    """A top-up would take the month's spending over the plan's monthly cap: it was not made, and
    no top-up is made for the rest of the business's calendar month `month` (YYYY-MM)."""

    account_id: str
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    cap: Money
    spent: Money = Field(description="charged by the plan this month so far")
    needed: Money = Field(description="what the top-up would have cost")
    resumes_on: date
    billing_contact: BillingContact | None = None
    reached_at: AwareDatetime


@event(topic="billing.units", version=1, key="account_id")
class UnitsBalanceLow(Event):
    """The balance fell to or below the account's low-balance level (once per crossing: told again
    only after the balance has been above the level in between)."""

    account_id: str
    balance: int
    low_balance_at: int
    at: AwareDatetime


@event(topic="billing.units", version=1, key="account_id")
class UnitsBalanceDepleted(Event):
    """The balance fell to zero or below (once per crossing, as UnitsBalanceLow)."""

    account_id: str
    balance: int
    at: AwareDatetime


# ---------------------------------------------------------------- billing.invoices: credit notes


class CreditNoteLine(BaseModel):
    """What a credit note gives back of an invoice line (`invoice_line_id`), or of payments taken
    (no invoice line): net `line_total`, `tax` at the line's `tax_rate`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    line_id: uuid.UUID
    invoice_line_id: uuid.UUID | None = None
    description: str
    quantity: int = Field(ge=1)
    unit_price: Money
    line_total: Money
    tax_rate: DecimalString
    tax: Money


@event(topic="billing.invoices", version=1, key="invoice_id")
class CreditNoteIssued(Event):
    """Billing credited (part of) an invoice, numbered in its own series (CN-2026-000001): its order
    was cancelled after it was paid (`reason` cancelled_order), or returned goods were received
    (`reason` returned_goods, with `rma_id` and the goods receipt). `refunded` goes back to the payer,
    `credited` stays on the account as credit for its next invoices (`settlement` says which one the
    credit note was asked to do)."""

    credit_note_id: uuid.UUID
    number: str
    invoice_id: uuid.UUID
    invoice_number: str
    account_id: str
    source_kind: str
    source_id: str
    currency: str
    lines: list[CreditNoteLine]
    total: Money
    tax_total: Money
    reason: str
    settlement: Literal["refund", "credit"]
    refunded: Money
    credited: Money
    issued_at: AwareDatetime
    applied: Money | None = Field(
        default=None, description="what it took off the invoice's balance due (the rest is refunded or credited)"
    )
    rma_id: uuid.UUID | None = Field(default=None, description="reason returned_goods: the return request")
    receipt_id: uuid.UUID | None = Field(default=None, description="reason returned_goods: the goods receipt")
    receipt_number: str | None = None


# ---------------------------------------------------------------- billing.statements


@event(topic="billing.statements", version=1, key="account_id")
class StatementIssued(Event):
    """An admin issued a reconciliation statement to a customer: the account's figures in one currency
    for a period (`period_start`..`period_end`, both days included, in the business's time zone), which
    the customer confirms or disputes. `closing_balance` = `opening_balance` + `debits` - `credits`; a
    positive balance is what the customer owes."""

    statement_id: uuid.UUID
    number: str = Field(description="its own series, ST-2026-000001")
    account_id: str
    currency: str
    period_start: date
    period_end: date
    opening_balance: Money
    debits: Money
    credits: Money
    closing_balance: Money
    issued_by: str
    issued_at: AwareDatetime


@event(topic="billing.statements", version=1, key="account_id")
class StatementConfirmed(Event):
    statement_id: uuid.UUID
    number: str
    account_id: str
    confirmed_by: str
    confirmed_at: AwareDatetime


@event(topic="billing.statements", version=1, key="account_id")
class StatementDisputed(Event):
    statement_id: uuid.UUID
    number: str
    account_id: str
    note: str
    disputed_by: str
    disputed_at: AwareDatetime
