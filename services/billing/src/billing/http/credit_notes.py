"""HTTP of credit notes and account credit: a customer reads its own, an admin any account's
(`account_id`). `/v1/credit-notes` lists them newest first (filters `invoice_id`, `order_id`),
`/v1/credit-notes/{id}` reads one (another account's: 404), `/v1/account/credit` answers an
account's credit per currency (an admin names the account)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from pydantic import BaseModel, Field

from billing.domain.credit_notes import CreditLine, CreditNote, Reason, Refund, Settlement
from billing.http.invoices import money, rate
from billing.service.credit_notes import AccountCredit
from billing.service.invoices import BillingService
from portal_runtime.auth import Principal
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest


class CreditNoteLineOut(BaseModel):
    line_id: uuid.UUID
    invoice_line_id: uuid.UUID | None = Field(description="the invoice line it credits; null for payments received")
    description: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal = Field(description="net")
    tax_rate: Decimal = Field(description="a fraction: 0.19 is 19 %")
    tax: Decimal

    @classmethod
    def of(cls, line: CreditLine, currency: str) -> CreditNoteLineOut:
        return cls(
            line_id=line.line_id,
            invoice_line_id=line.invoice_line_id,
            description=line.description,
            quantity=line.quantity,
            unit_price=money(line.unit_price, currency),
            line_total=money(line.line_total, currency),
            tax_rate=rate(line.tax_rate),
            tax=money(line.tax, currency),
        )


class RefundOut(BaseModel):
    id: uuid.UUID
    payment_id: uuid.UUID | None = Field(description="the payment whose payer gets it back")
    method: str = Field(description="the payment's method: the refund goes back the same way")
    amount: Decimal
    currency: str
    payer_reference: str
    refunded_at: datetime

    @classmethod
    def of(cls, refund: Refund) -> RefundOut:
        fields = {f: getattr(refund, f) for f in cls.model_fields}
        return cls(**{**fields, "amount": money(refund.amount, refund.currency)})


class CreditNoteOut(BaseModel):
    id: uuid.UUID
    number: str = Field(description="CN-<year>-<n>: its own series, without gaps")
    invoice_id: uuid.UUID
    invoice_number: str
    account_id: str
    source_kind: str = Field(description="the credited invoice's source kind (order, renewal, ...)")
    source_id: str
    order_id: uuid.UUID | None = Field(description="the order, for an order's invoice")
    currency: str
    lines: list[CreditNoteLineOut]
    total: Decimal = Field(description="what it gives back: the lines' net totals, as the invoice's total counts")
    tax_total: Decimal
    total_with_tax: Decimal = Field(
        description="total + tax_total: what it gives back in all (applied + refunded + credited)"
    )
    reason: Reason = Field(
        description="cancelled_order: the order was cancelled after money was paid on it; returned_goods: goods of "
        "a return were received (rma_id, receipt_id, receipt_number)"
    )
    note: str | None = Field(
        description="the cancellation's reason text, when an admin gave one; for returned goods the receipt and return"
    )
    settlement: Settlement = Field(description="refund (to the payer) or credit (the account's credit)")
    applied: Decimal = Field(description="what it took off what the invoice still owed")
    refunded: Decimal
    credited: Decimal
    rma_id: uuid.UUID | None = Field(description="returned goods: the return request")
    receipt_id: uuid.UUID | None = Field(description="returned goods: the goods receipt it credits")
    receipt_number: str | None
    refunds: list[RefundOut] = Field(description="to whom the refunded amount goes, per payment (no payout is made)")
    issued_at: datetime

    @classmethod
    def of(cls, note: CreditNote) -> CreditNoteOut:
        currency = note.currency
        return cls(
            id=note.id,
            number=note.number,
            invoice_id=note.invoice_id,
            invoice_number=note.invoice_number,
            account_id=note.account_id,
            source_kind=str(note.source.kind),
            source_id=note.source.id,
            order_id=note.order_id,
            currency=currency,
            lines=[CreditNoteLineOut.of(line, currency) for line in note.lines],
            total=money(note.total, currency),
            tax_total=money(note.tax_total, currency),
            total_with_tax=money(note.gross, currency),
            reason=note.reason,
            note=note.note,
            settlement=note.settlement,
            refunded=money(note.refunded, currency),
            credited=money(note.credited, currency),
            applied=money(note.applied, currency),
            rma_id=note.rma_id,
            receipt_id=note.receipt_id,
            receipt_number=note.receipt_number,
            refunds=[RefundOut.of(r) for r in note.refunds],
            issued_at=note.issued_at,
        )


class CreditBalanceOut(BaseModel):
    currency: str
    amount: Decimal


class AccountCreditOut(BaseModel):
    account_id: str
    balances: list[CreditBalanceOut] = Field(description="the account's credit per currency it has had credit in")

    @classmethod
    def of(cls, credit: AccountCredit) -> AccountCreditOut:
        return cls(
            account_id=credit.account_id,
            balances=[
                CreditBalanceOut(currency=b.currency, amount=money(b.amount, b.currency)) for b in credit.balances
            ],
        )


class CreditNoteController(Controller):
    path = "/v1/credit-notes"
    tags = ["credit notes"]

    @get("/", summary="List credit notes, newest first: a customer its own; an admin all, or one account's")
    async def list_credit_notes(
        self,
        request: Request[Principal, Any, Any],
        billing: NamedDependency[BillingService],
        page: NamedDependency[PageRequest],
        account_id: Annotated[str | None, QueryParameter(description="an admin's filter: one account's")] = None,
        invoice_id: Annotated[
            uuid.UUID | None, QueryParameter(description="only the credit notes of this invoice")
        ] = None,
        order_id: Annotated[uuid.UUID | None, QueryParameter(description="only those of this order's invoice")] = None,
    ) -> Page[CreditNoteOut]:
        found = await billing.list_credit_notes(
            request.user, account_id=account_id, invoice_id=invoice_id, order_id=order_id, page=page
        )
        return found.map(CreditNoteOut.of)

    @get("/{credit_note_id:uuid}", summary="Read one credit note with its lines and refunds")
    async def get_credit_note(
        self,
        credit_note_id: FromPath[uuid.UUID],
        request: Request[Principal, Any, Any],
        billing: NamedDependency[BillingService],
    ) -> CreditNoteOut:
        return CreditNoteOut.of(await billing.get_credit_note(credit_note_id, request.user))


class AccountCreditController(Controller):
    path = "/v1/account/credit"
    tags = ["credit notes"]

    @get(
        "/",
        summary="The account's credit per currency (from credit notes settled as credit)",
        responses=problems(
            {
                404: "For a customer: `account_id` names another account",
                422: "For an admin: no `account_id` (`field`: account_id)",
            }
        ),
    )
    async def get_account_credit(
        self,
        request: Request[Principal, Any, Any],
        billing: NamedDependency[BillingService],
        account_id: Annotated[
            str | None,
            QueryParameter(description="the account: required for admins; a customer's is its own (another: 404)"),
        ] = None,
    ) -> AccountCreditOut:
        return AccountCreditOut.of(await billing.account_credit(request.user, account_id))
