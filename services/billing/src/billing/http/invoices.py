"""HTTP: parse, authorise, call the service, answer. One meaning per path: a customer pays at
`/v1/invoices/{id}/payments` (card or PayPal, through the gateway, may be declined: 402); the
business records a bank transfer that arrived at `/v1/admin/invoices/{id}/payments` (never
declined). Both take an Idempotency-Key and answer a replay as the first time."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from billing.domain.cards import Card
from billing.domain.invoices import Invoice, InvoiceSummary, Line, Payment, SourceKind, Status
from billing.domain.payments import IDEMPOTENCY_HEADER, MAX_KEY_LENGTH, PaymentRequest, idempotency_key
from billing.service.invoices import BillingService
from billing.service.payments import PaymentApproved, PaymentDeclined
from portal_runtime.auth import Principal, admin_only
from portal_runtime.idempotency import Answer
from portal_runtime.openapi import decimal_text, problems
from portal_runtime.paging import Page, PageRequest
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


Amount = decimal_text(digits=14, positive=True)
PayerReference = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S", description="not blank")]


class PaymentIn(Strict):
    """A customer pays its invoice: by card (with `card`) or PayPal (`payer_reference` is the
    PayPal account)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={  # `card` with method card, and only with it
            "if": {"properties": {"method": {"const": "card"}}},
            "then": {"required": ["card"], "properties": {"card": {"type": "object"}}},
            "else": {"properties": {"card": {"type": "null"}}},
        },
    )

    method: Literal["card", "paypal"]
    amount: Amount
    currency: Currency
    payer_reference: PayerReference
    card: CardIn | None = Field(default=None, description="required with method card; only with it")


class TransferIn(Strict):
    """A bank transfer that arrived, recorded by the business (`payer_reference`: what the bank
    statement names)."""

    method: Literal["bank_transfer"] = "bank_transfer"
    amount: Amount
    currency: Currency
    payer_reference: PayerReference


def rate(value: Decimal) -> Decimal:
    """A tax rate as answers show it: a fraction without trailing zeros beyond two places (0.190000 reads 0.19)."""
    exact = value.normalize()
    return exact.quantize(Decimal("0.01")) if exact.as_tuple().exponent > -2 else exact


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
    subscription_id: uuid.UUID | None = Field(
        description="the client-area service the line is for (order and renewal invoices), else null"
    )
    period_start: date | None = Field(description="the first day the line pays for, where it pays for a period")
    period_end: date | None = Field(description="the day after the last it pays for (the next due date)")

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
            tax_rate=rate(line.tax_rate),
            tax_amount=money(line.tax_amount, currency),
            subscription_id=line.subscription_id,
            period_start=line.period_start,
            period_end=line.period_end,
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
    source_kind: str = Field(
        description="what the invoice bills for: service_request, order (a client-area cart order), renewal "
        "(a renewal order), unit_top_up, ..."
    )
    source_id: str = Field(description="the source's id: the request's or the order's (order and renewal)")
    period_start: date | None
    period_end: date | None
    request_id: uuid.UUID | None  # set for a service request's invoice
    currency: str
    total: Decimal
    amount_paid: Decimal
    amount_credited: Decimal = Field(description="what credit notes (returned goods) took off what it owes")
    balance_due: Decimal = Field(description="total - amount_paid - amount_credited")
    status: Status = Field(
        description="issued, partially_paid, paid, or voided (its order was cancelled: it takes no payment)"
    )
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
        amounts = {
            f: money(fields[f], invoice.currency) for f in ("total", "amount_paid", "amount_credited", "balance_due")
        }
        return cls(**{**fields, **amounts})


class BillToOut(BaseModel):
    name: str = Field(description="the billing contact: the invoice goes to them")
    email: str
    company: str | None
    line1: str
    line2: str | None
    postal_code: str
    city: str
    country: str = Field(description="ISO 3166-1 alpha-2")


class InvoiceOut(InvoiceSummaryOut):
    net_total: Decimal = Field(description="Σ the lines' line_total (before tax); total = net_total + tax_total")
    tax_total: Decimal = Field(description="Σ the lines' tax_amount")
    lines: list[LineOut]
    payment_instructions: list[InstructionOut]
    payments: list[PaymentOut]
    bill_to: BillToOut | None = Field(
        description="whom the invoice is addressed to when not the account itself (a unit plan's billing contact)"
    )

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceOut:
        return cls(
            **InvoiceSummaryOut.of(invoice).model_dump(),
            net_total=money(invoice.net_total, invoice.currency),
            tax_total=money(invoice.tax_total, invoice.currency),
            lines=[LineOut.of(line, invoice.currency) for line in invoice.lines],
            payment_instructions=[InstructionOut(method=i.method, details=i.details) for i in invoice.instructions],
            payments=[PaymentOut.of(p) for p in invoice.payments],
            bill_to=BillToOut(**asdict(invoice.bill_to)) if invoice.bill_to else None,
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


IDEMPOTENCY_KEY = HeaderParameter(
    name=IDEMPOTENCY_HEADER,
    required=True,
    min_length=1,
    max_length=MAX_KEY_LENGTH,
    pattern=r"^[!-~]([ -~]*[!-~])?$",  # printable ASCII, no space at either end
    description="one key per payment: the same key with the same body answers as the first time and pays nothing "
    "more; with another body it is a 422",
)
PAID = ResponseSpec(
    data_container=PaymentResultOut, description="Paid: the payment and the invoice after it", generate_examples=False
)
PAYMENT_CONFLICT = (
    "The invoice is paid or void (`current_status`), or a request with this Idempotency-Key is still being answered"
)
PAYMENT_REFUSED = (
    "Refused by a rule, naming the `field`: more than the balance due, another currency than the invoice's, a "
    "card that is not valid or has expired, or an Idempotency-Key used before with another body"
)


class InvoiceController(Controller):
    path = "/v1/invoices"
    tags = ["invoices"]

    @get("/", summary="List invoices: a customer its own; an admin all, or one account's")
    async def list_invoices(
        self,
        request: Request[Principal, object, object],
        billing: NamedDependency[BillingService],
        page: NamedDependency[PageRequest],
        account_id: FromQuery[str | None] = None,
        status: FromQuery[Status | None] = None,
        source_kind: Annotated[
            SourceKind | None, QueryParameter(description="only invoices of this source kind, e.g. renewal")
        ] = None,
    ) -> Page[InvoiceSummaryOut]:
        found = await billing.list_invoices(
            request.user, account_id=account_id, status=status, page=page, source_kind=source_kind
        )
        return found.map(InvoiceSummaryOut.of)

    @get("/{invoice_id:uuid}", summary="Read one invoice with lines, instructions and payments")
    async def get_invoice(
        self,
        invoice_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        billing: NamedDependency[BillingService],
    ) -> InvoiceOut:
        return InvoiceOut.of(await billing.get_invoice(invoice_id, request.user))

    @post(
        "/{invoice_id:uuid}/payments",
        summary="Pay an invoice by card or PayPal (customer); a bank transfer is recorded by the business at "
        "/v1/admin/invoices/{invoice_id}/payments",
        responses={
            201: PAID,
            **problems(
                {
                    402: "The card or PayPal payment was declined (`payment-declined`, with `reason`); the same "
                    "Idempotency-Key answers the same again",
                    403: "For customers: an admin records a bank transfer instead (`field`: method)",
                    409: PAYMENT_CONFLICT,
                    422: PAYMENT_REFUSED,
                }
            ),
        },
    )
    async def pay_invoice(
        self,
        invoice_id: FromPath[uuid.UUID],
        data: JSONBody[PaymentIn],
        request: Request[Principal, object, object],
        billing: NamedDependency[BillingService],
        key: Annotated[str, IDEMPOTENCY_KEY],
    ) -> Response[bytes]:
        card = None
        if data.card is not None:
            card = Card.parse(
                number=data.card.number,
                expiry_month=data.card.expiry_month,
                expiry_year=data.card.expiry_year,
                cvc=data.card.cvc,
                today=billing.clock.now().date(),
            )
        return await _pay(billing, request.user, key, invoice_id, data, card)


class AdminInvoiceController(Controller):
    """What the business records on an invoice: the money that arrived by bank transfer."""

    path = "/v1/admin/invoices"
    tags = ["invoices (admin)"]
    guards = [admin_only]

    @post(
        "/{invoice_id:uuid}/payments",
        summary="Record a bank transfer that arrived for an invoice of any account (admin)",
        responses={201: PAID, **problems({409: PAYMENT_CONFLICT, 422: PAYMENT_REFUSED})},
    )
    async def record_payment(
        self,
        invoice_id: FromPath[uuid.UUID],
        data: JSONBody[TransferIn],
        request: Request[Principal, object, object],
        billing: NamedDependency[BillingService],
        key: Annotated[str, IDEMPOTENCY_KEY],
    ) -> Response[bytes]:
        return await _pay(billing, request.user, key, invoice_id, data, None)


async def _pay(
    billing: BillingService,
    caller: Principal,
    key: str,
    invoice_id: uuid.UUID,
    data: PaymentIn | TransferIn,
    card: Card | None,
) -> Response[bytes]:
    payment = PaymentRequest(
        invoice_id=invoice_id,
        method=data.method,
        amount=data.amount,
        currency=data.currency,
        payer_reference=data.payer_reference,
        card=card,
    )
    answer = await billing.pay(payment, caller=caller, idempotency_key=idempotency_key(key), render=render)
    return respond(answer)
