"""HTTP: parse, authorise, call the service, answer."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from billing.domain.cards import Card
from billing.domain.invoices import Invoice, InvoiceSummary, Payment, Status
from billing.domain.payments import IDEMPOTENCY_HEADER, PaymentRequest, idempotency_key
from billing.service.invoices import BillingService, PaymentApproved, PaymentDeclined
from portal_runtime.auth import Principal
from portal_runtime.paging import MAX_LIMIT, Page, PageRequest

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardIn(Strict):
    number: Annotated[str, Field(min_length=12, max_length=23, pattern=r"^[0-9 -]+$")]
    expiry_month: Annotated[int, Field(ge=1, le=12)]
    expiry_year: Annotated[int, Field(ge=2000, le=2100)]
    cvc: Annotated[str, Field(pattern=r"^[0-9]{3,4}$")]


class PaymentIn(Strict):
    method: Literal["card", "bank_transfer", "paypal"]
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
    currency: Currency
    payer_reference: Annotated[str, Field(min_length=1, max_length=200)]
    card: CardIn | None = None


class LineOut(BaseModel):
    item_id: uuid.UUID | None
    description: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


class InstructionOut(BaseModel):
    method: str
    details: dict[str, str]


class PaymentOut(BaseModel):
    id: uuid.UUID
    method: str
    amount: Decimal
    currency: str
    payer_reference: str
    card_brand: str | None
    card_last4: str | None
    gateway_reference: str | None
    recorded_by: str
    paid_at: datetime

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        return cls(**{f: getattr(payment, f) for f in cls.model_fields})


class InvoiceSummaryOut(BaseModel):
    id: uuid.UUID
    number: str
    account_id: str
    request_id: uuid.UUID | None
    currency: str
    total: Decimal
    amount_paid: Decimal
    balance_due: Decimal
    status: Status
    issued_at: datetime
    due_on: date

    @classmethod
    def of(cls, invoice: Invoice | InvoiceSummary) -> InvoiceSummaryOut:
        return cls(**{f: getattr(invoice, f) for f in InvoiceSummaryOut.model_fields})


class InvoiceOut(InvoiceSummaryOut):
    lines: list[LineOut]
    payment_instructions: list[InstructionOut]
    payments: list[PaymentOut]

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceOut:
        return cls(
            **InvoiceSummaryOut.of(invoice).model_dump(),
            lines=[
                LineOut(
                    item_id=line.item_id,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    line_total=line.line_total,
                )
                for line in invoice.lines
            ],
            payment_instructions=[InstructionOut(method=i.method, details=i.details) for i in invoice.instructions],
            payments=[PaymentOut.of(p) for p in invoice.payments],
        )


class PaymentResultOut(BaseModel):
    payment: PaymentOut
    invoice: InvoiceOut


def render(outcome: PaymentApproved | PaymentDeclined) -> tuple[int, str]:
    """The answer to a payment, as first given and as replayed for its Idempotency-Key."""
    if isinstance(outcome, PaymentApproved):
        body = PaymentResultOut(payment=PaymentOut.of(outcome.payment), invoice=InvoiceOut.of(outcome.invoice))
        return 201, body.model_dump_json()
    declined = {
        "status_code": 402,
        "detail": f"the payment was declined: {outcome.reason}",
        "field": "card" if outcome.method == "card" else "payer_reference",
        "reason": outcome.reason,
        "invoice_id": str(outcome.invoice.id),
        "status": outcome.invoice.status,
    }
    return 402, json.dumps(declined)


class InvoiceController(Controller):
    path = "/v1/invoices"
    tags = ["invoices"]

    @get("/", summary="List invoices: a customer its own; an admin all, or one account's")
    async def list_invoices(
        self,
        request: Request[Principal, object, object],
        billing: NamedDependency[BillingService],
        account_id: FromQuery[str | None] = None,
        status: FromQuery[Status | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> Page[InvoiceSummaryOut]:
        found = await billing.list_invoices(
            request.user, account_id=account_id, status=status, page=PageRequest(limit, offset)
        )
        return found.map(InvoiceSummaryOut.of)

    @get("/{invoice_id:uuid}", summary="Read one invoice with lines, instructions and payments")
    async def read(
        self,
        invoice_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        billing: NamedDependency[BillingService],
    ) -> InvoiceOut:
        return InvoiceOut.of(await billing.get_invoice(invoice_id, request.user))

    @post(
        "/{invoice_id:uuid}/payments",
        summary="Pay an invoice (customer: card or PayPal; admin: record a "
        f"bank transfer). Requires an {IDEMPOTENCY_HEADER} header; a replay answers as the first time.",
    )
    async def pay(
        self,
        invoice_id: FromPath[uuid.UUID],
        data: JSONBody[PaymentIn],
        request: Request[Principal, object, object],
        billing: NamedDependency[BillingService],
        key: Annotated[
            str | None,
            HeaderParameter(
                name=IDEMPOTENCY_HEADER,
                description="Required: one key per "
                "payment attempt; a retry with the same key and body gets the "
                "first answer",
            ),
        ] = None,
    ) -> Response[bytes]:
        key = idempotency_key(key)
        card = None
        if data.card is not None:
            card = Card.parse(
                number=data.card.number,
                expiry_month=data.card.expiry_month,
                expiry_year=data.card.expiry_year,
                cvc=data.card.cvc,
                today=billing.clock.now().date(),
            )
        payment = PaymentRequest(
            invoice_id=invoice_id,
            method=data.method,
            amount=data.amount,
            currency=data.currency,
            payer_reference=data.payer_reference,
            card=card,
        )
        answer = await billing.pay(payment, caller=request.user, idempotency_key=key, render=render)
        return Response(content=answer.body.encode(), status_code=answer.status_code, media_type=MediaType.JSON)
