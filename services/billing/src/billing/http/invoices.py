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
from billing.domain.invoices import Invoice, InvoiceSummary, Line, Payment, Status
from billing.domain.payments import IDEMPOTENCY_HEADER, PaymentRequest, idempotency_key
from billing.service.invoices import BillingService
from billing.service.payments import PaymentApproved, PaymentDeclined
from portal_runtime.auth import Principal
from portal_runtime.idempotency import Answer
from portal_runtime.paging import MAX_LIMIT, Page, PageRequest
from portal_runtime.problems import KINDS, PROBLEM_BASE
from portal_runtime.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

# ISO 4217 minor units where they are not 2.
_MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def money(amount: Decimal, currency: str) -> Decimal:
    """An amount as answers show it: with the currency's decimals (`10.1` EUR reads `10.10`, a
    unit price stored as `33.3300` reads `33.33`), and more only where the amount has them."""
    places = _MINOR_UNITS.get(currency, 2)
    exact = amount.normalize()
    if exact.as_tuple().exponent < -places:
        return exact
    return amount.quantize(Decimal(1).scaleb(-places))


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
    line_id: uuid.UUID | None
    item_id: uuid.UUID | None
    sku: str | None
    description: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    tax_rate: Decimal
    tax_amount: Decimal

    @classmethod
    def of(cls, line: Line, currency: str) -> LineOut:
        return cls(
            line_id=line.line_id,
            item_id=line.item_id,
            sku=line.sku,
            description=line.description,
            quantity=line.quantity,
            unit_price=money(line.unit_price, currency),
            line_total=money(line.line_total, currency),
            tax_rate=line.tax_rate,
            tax_amount=money(line.tax_amount, currency),
        )


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
        fields = {f: getattr(payment, f) for f in cls.model_fields}
        return cls(**{**fields, "amount": money(payment.amount, payment.currency)})


class InvoiceSummaryOut(BaseModel):
    id: uuid.UUID
    number: str
    account_id: str
    source_kind: str
    source_id: str
    period_start: date | None
    period_end: date | None
    request_id: uuid.UUID | None  # set for a service request's invoice
    currency: str
    total: Decimal
    amount_paid: Decimal
    balance_due: Decimal
    status: Status
    issued_at: datetime
    due_on: date

    @classmethod
    def of(cls, invoice: Invoice | InvoiceSummary) -> InvoiceSummaryOut:
        source = invoice.source
        fields = {
            f: getattr(invoice, f) for f in InvoiceSummaryOut.model_fields if not f.startswith(("source_", "period_"))
        }
        fields |= dict(
            source_kind=str(source.kind),
            source_id=source.id,
            period_start=source.period_start,
            period_end=source.period_end,
        )
        amounts = {f: money(fields[f], invoice.currency) for f in ("total", "amount_paid", "balance_due")}
        return cls(**{**fields, **amounts})


class InvoiceOut(InvoiceSummaryOut):
    lines: list[LineOut]
    payment_instructions: list[InstructionOut]
    payments: list[PaymentOut]

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceOut:
        return cls(
            **InvoiceSummaryOut.of(invoice).model_dump(),
            lines=[LineOut.of(line, invoice.currency) for line in invoice.lines],
            payment_instructions=[InstructionOut(method=i.method, details=i.details) for i in invoice.instructions],
            payments=[PaymentOut.of(p) for p in invoice.payments],
        )


class PaymentResultOut(BaseModel):
    payment: PaymentOut
    invoice: InvoiceOut


def render(outcome: PaymentApproved | PaymentDeclined) -> Answer:
    """The answer to a payment, as first given and as replayed for its Idempotency-Key."""
    if isinstance(outcome, PaymentApproved):
        body = PaymentResultOut(payment=PaymentOut.of(outcome.payment), invoice=InvoiceOut.of(outcome.invoice))
        return Answer(201, body.model_dump(mode="json"))
    declined = {  # a problem (RFC 9457), stored as given so that a replay answers the same bytes
        "type": PROBLEM_BASE + "payment-declined",
        "title": KINDS["payment-declined"],
        "status": 402,
        "detail": f"the payment was declined: {outcome.reason}",
        "field": "card" if outcome.method == "card" else "payer_reference",
        "reason": outcome.reason,
        "invoice_id": str(outcome.invoice.id),
        "invoice_status": str(outcome.invoice.status),
    }
    return Answer(402, declined)


def respond(answer: Answer) -> Response[bytes]:
    """The same bytes for the first answer and every replay of it (the stored JSON keeps its order)."""
    content = json.dumps(answer.body, separators=(",", ":"), ensure_ascii=False).encode()
    media_type = PROBLEM_MEDIA_TYPE if answer.status_code >= 400 else MediaType.JSON
    return Response(content=content, status_code=answer.status_code, media_type=media_type)


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
        return respond(await billing.pay(payment, caller=request.user, idempotency_key=key, render=render))
