"""What the HTTP API reads and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from orders.adapters.repository import InvoiceLink, RequestHeader
from orders.domain import orders, subscriptions
from orders.domain.b2b_orders import status_label
from orders.domain.carts import MAX_DOMAIN, MAX_GOOD_QUANTITY
from orders.domain.lines import OrderLine
from orders.domain.offers import Offer
from orders.domain.profiles import EMAIL, Profile
from orders.domain.requests import MAX_LINES, MAX_QUANTITY, MAX_TEXT
from orders.domain.subscriptions import Subscription
from orders.service.cart import CartView
from orders.service.featured import FeaturedItem
from orders.service.orders import OrderView
from orders.service.requests import RequestView
from orders.service.services import ServicePage, ServiceView
from portal_runtime.lifecycle import Transition

Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- in ------------------------------------------------------------------------------------
class ProfileIn(Strict):
    email: Annotated[
        str, Field(min_length=3, max_length=254, pattern=EMAIL.pattern, description="one @, a dot after it")
    ]
    language: Literal["en", "tr", "de", "pl"]


class LineIn(Strict):
    item_id: uuid.UUID
    quantity: Quantity


class NewRequestIn(Strict):
    lines: Annotated[list[LineIn], Field(max_length=MAX_LINES)] = []


class QuantityIn(Strict):
    quantity: Quantity


class AnswerIn(Strict):
    answer: Text


class ReasonIn(Strict):
    reason: Text


class QuestionIn(Strict):
    question: Text


# A cycle's name (monthly, quarterly, semi_annual, annual, biennial, triennial, one_time): one the
# item is not offered in is a 422 naming `cycle`, with the cycles it is offered in.
CycleName = Annotated[
    str, Field(min_length=1, max_length=16, description="monthly, quarterly, semi_annual, annual, biennial, ...")
]


class NewServiceLineIn(Strict):
    kind: Literal["new"]
    item_id: uuid.UUID
    cycle: CycleName
    domain: Annotated[str | None, Field(max_length=MAX_DOMAIN, description="the service's domain or label")] = None


class RenewalLineIn(Strict):
    kind: Literal["renewal"]
    subscription_id: uuid.UUID = Field(description="one of the account's services (with its add-ons due the same day)")


class AddOnLineIn(Strict):
    kind: Literal["add_on"]
    item_id: uuid.UUID
    cycle: CycleName
    parent_subscription_id: uuid.UUID = Field(description="the active service the add-on is for")


class GoodLineIn(Strict):
    kind: Literal["good"]
    item_id: uuid.UUID = Field(description="a catalog item of kind good (priced at its one-time price)")
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_GOOD_QUANTITY)]


class CartLineIn(
    RootModel[Annotated[NewServiceLineIn | RenewalLineIn | AddOnLineIn | GoodLineIn, Field(discriminator="kind")]]
):
    """One line, by its `kind`: a new service, a renewal of one of the account's, an add-on, or goods."""


class SuspensionIn(Strict):
    reason: Annotated[Text, Field(description='why (not "overdue": that is the overdue job\'s own)')]


# -- out -----------------------------------------------------------------------------------
class ProfileOut(BaseModel):
    account_id: str
    email: str
    language: str
    updated_at: datetime

    @classmethod
    def of(cls, p: Profile) -> ProfileOut:
        return cls(account_id=p.account_id, email=p.email, language=p.language, updated_at=p.updated_at)


class LineOut(BaseModel):
    item_id: uuid.UUID
    name: str | None
    quantity: int
    unit_price: Decimal | None
    line_total: Decimal | None
    currency: str | None
    billing: str | None
    billing_period_months: int | None
    available: bool


class ProblemOut(BaseModel):
    item_id: uuid.UUID | None
    field: str
    message: str


class RequestOut(BaseModel):
    id: uuid.UUID
    account_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    lines: list[LineOut]
    currency: str | None
    total: Decimal | None = Field(description="computed by the server; null while a line cannot be priced")
    problems: list[ProblemOut]

    @classmethod
    def of(cls, view: RequestView) -> RequestOut:
        r, s = view.request, view.summary
        return cls(
            id=r.id,
            account_id=r.account_id,
            status=r.status,
            created_at=r.created_at,
            updated_at=r.updated_at,
            submitted_at=r.submitted_at,
            currency=s.currency,
            total=s.total,
            lines=[
                LineOut(
                    item_id=p.item_id,
                    name=p.name,
                    quantity=p.quantity,
                    unit_price=p.unit_price,
                    line_total=p.line_total,
                    currency=p.currency,
                    billing=p.billing,
                    billing_period_months=p.billing_period_months,
                    available=p.available,
                )
                for p in s.lines
            ],
            problems=[ProblemOut(item_id=p.item_id, field=p.field, message=p.message) for p in s.problems],
        )


class RequestHeaderOut(BaseModel):
    id: uuid.UUID
    account_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    total: Decimal | None
    currency: str | None

    @classmethod
    def of(cls, h: RequestHeader) -> RequestHeaderOut:
        return cls(**vars(h))


class TransitionOut(BaseModel):
    at: datetime
    by: str
    from_status: str | None
    to_status: str
    note: str | None

    @classmethod
    def of(cls, t: Transition) -> TransitionOut:
        return cls(at=t.at, by=t.by, from_status=t.from_status, to_status=t.to_status, note=t.note)


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    request_id: uuid.UUID | None = Field(description="the request that bought it; null for one bought through the cart")
    item_id: uuid.UUID
    name: str
    quantity: int
    unit_price: Decimal
    currency: str
    billing: str
    billing_period_months: int | None
    status: str
    activated_on: date | None = Field(description="null while pending")
    next_due_on: date | None

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionOut:
        return cls(**{f: getattr(s, f) for f in cls.model_fields})


# -- the client area -----------------------------------------------------------------------
# The list filters' statuses, named for the document (the domain's enums are all `Status`).
OrderStatus = StrEnum("OrderStatus", {s.name: s.value for s in orders.Status})
ServiceStatus = StrEnum("ServiceStatus", {s.name: s.value for s in subscriptions.Status})


class CyclePriceOut(BaseModel):
    cycle: str
    price: Decimal


def _prices(offer: Offer) -> list[CyclePriceOut]:
    return [CyclePriceOut(cycle=c, price=offer.price_for(c)) for c in offer.cycles]


class RefusalOut(BaseModel):
    field: str | None
    message: str


class CartLineOut(BaseModel):
    line_id: uuid.UUID
    kind: str
    item_id: uuid.UUID
    name: str | None
    cycle: str
    domain: str | None
    subscription_id: uuid.UUID | None = Field(
        description="the service the line creates (new, add_on) or renews; null for goods"
    )
    parent_subscription_id: uuid.UUID | None
    quantity: int = Field(default=1, description="goods: how many (1 for a service)")
    unit_price: Decimal | None = Field(description="null when the line cannot be checked out any more (`problem`)")
    amount: Decimal | None = Field(description="the line's total after proration")
    period_start: date | None
    period_end: date | None
    problem: RefusalOut | None = Field(
        description="why checkout would refuse the line now (the catalog or the service changed since it was added)"
    )


class CartOut(BaseModel):
    cart_id: uuid.UUID | None = Field(description="null until the account's first line")
    account_id: str
    currency: str | None
    lines: list[CartLineOut]
    total: Decimal = Field(description="of the lines that can be checked out, priced as of today")

    @classmethod
    def of(cls, view: CartView) -> CartOut:
        lines = []
        for line, priced, refusal in view.lines:
            lines.append(
                CartLineOut(
                    line_id=line.line_id,
                    kind=line.kind,
                    item_id=line.item_id,
                    name=priced.name if priced else None,
                    cycle=line.cycle,
                    domain=priced.domain if priced else line.domain,
                    subscription_id=line.subscription_id,
                    parent_subscription_id=line.parent_subscription_id,
                    quantity=line.quantity,
                    unit_price=priced.unit_price if priced else None,
                    amount=priced.amount if priced else None,
                    period_start=priced.period_start if priced else line.period_start,
                    period_end=priced.period_end if priced else None,
                    problem=RefusalOut(field=refusal.field, message=refusal.message) if refusal else None,
                )
            )
        total = sum((p.amount for _, p, _ in view.lines if p is not None), Decimal("0.00"))
        return cls(cart_id=view.cart_id, account_id=view.account_id, currency=view.currency, lines=lines, total=total)


class OrderLineOut(BaseModel):
    line_id: uuid.UUID
    kind: str
    item_id: uuid.UUID
    sku: str | None
    name: str
    cycle: str
    quantity: int
    unit_price: Decimal
    amount: Decimal = Field(description="the line's total after proration")
    subscription_id: uuid.UUID | None = Field(description="service lines only")
    parent_subscription_id: uuid.UUID | None
    domain: str | None
    period_start: date | None = Field(description="service lines only")
    period_end: date | None = Field(description="the period paid for ends here (exclusive); null: one-time")
    tax_rate: Decimal | None = Field(
        default=None, description="the item's tax rate when the order was placed, a fraction (0.19); null: not taxed"
    )

    @classmethod
    def of(cls, line: OrderLine) -> OrderLineOut:
        return cls(**{f: getattr(line, f) for f in cls.model_fields})


class OrderOut(BaseModel):
    order_id: uuid.UUID
    number: str
    account_id: str
    source: str = Field(description="cart | renewal | quote | reorder | channel")
    status: str = Field(description="placed | paid | cancelled")
    status_label: str = Field(default="Completed", description="Completed, Cleared once paid, Shipped once shipped")
    checkout_status: str = Field(default="completed", description="completed | on_hold")
    checkout_at: datetime | None = None
    payment_status: str = Field(default="not_submitted", description="not_submitted | submitted | cleared | failed")
    payment_at: datetime | None = Field(default=None, description="null while not submitted")
    shipping_status: str = Field(
        default="not_applicable",
        description="unshipped | pending_shipment | partially_shipped | shipped | cancelled; not_applicable: "
        "services only",
    )
    shipping_at: datetime | None = None
    placed_by: str | None = Field(default=None, description='who placed it (a channel\'s order: "channel:<name>")')
    reordered_from: uuid.UUID | None = Field(default=None, description="a reorder: the order it copied")
    channel: str | None = Field(default=None, description="an order from another sales channel: the channel")
    channel_order_id: str | None = Field(default=None, description="and the channel's own order id")
    customer_reference: str | None = None
    cancel_reason: str | None
    due_on: date | None = Field(description="renewal orders: the services' due date")
    currency: str
    lines: list[OrderLineOut]
    total: Decimal = Field(description="the net total (Σ lines' amount, before tax)")
    tax_total: Decimal = Field(description="Σ each line's tax (its amount × tax_rate, half-up to the cent)")
    total_with_tax: Decimal = Field(description="total + tax_total: what the invoice totals")
    invoice_id: uuid.UUID | None = Field(description="null until billing issued the order's invoice")
    quote_id: uuid.UUID | None = Field(default=None, description="an order from a quote: the quote accepted")
    placed_at: datetime
    public_note: str | None = Field(default=None, description="the business's note to the customer")
    payment_terms_days: int | None = Field(
        default=None, description="the account's payment terms when it was placed (days net); null: due at once"
    )
    history: list[TransitionOut]

    @classmethod
    def of(cls, view: OrderView) -> OrderOut:
        o = view.order
        return cls(
            order_id=o.id,
            number=o.number,
            account_id=o.account_id,
            source=o.source,
            status=o.status,
            status_label=status_label(o),
            checkout_status=o.checkout_status,
            checkout_at=o.checkout_at,
            payment_status=o.payment_status,
            payment_at=o.payment_at,
            shipping_status=o.shipping_status,
            shipping_at=o.shipping_at,
            placed_by=o.placed_by,
            reordered_from=o.reordered_from,
            channel=o.channel,
            channel_order_id=o.channel_order_id,
            customer_reference=o.customer_reference,
            cancel_reason=o.cancel_reason,
            due_on=o.due_on,
            currency=o.currency,
            lines=[OrderLineOut.of(line) for line in o.lines],
            total=o.total,
            tax_total=o.tax_total,
            total_with_tax=o.total_with_tax,
            invoice_id=view.invoice_id,
            quote_id=o.quote_id,
            placed_at=o.placed_at,
            public_note=o.public_note,
            payment_terms_days=o.payment_terms_days,
            history=[TransitionOut.of(t) for t in o.history],
        )


class AddOnServiceOut(BaseModel):
    subscription_id: uuid.UUID
    account_id: str
    item_id: uuid.UUID
    name: str
    domain: str | None
    cycle: str
    price: Decimal = Field(description="the recurring price of one period (what a renewal charges)")
    currency: str
    status: str
    next_due_on: date | None
    anchor_on: date | None
    suspend_reason: str | None
    cancel_at_period_end: bool
    ends_on: date | None = Field(description="a cancellation at period end: the day the service ends")

    @classmethod
    def fields_of(cls, s: Subscription) -> dict:
        return {**{f: getattr(s, f, None) for f in AddOnServiceOut.model_fields}, "subscription_id": s.id}

    @classmethod
    def of(cls, s: Subscription) -> AddOnServiceOut:
        return cls(**cls.fields_of(s))


class ServiceOut(AddOnServiceOut):
    add_ons: list[AddOnServiceOut]

    @classmethod
    def of(cls, view: ServiceView) -> ServiceOut:
        return cls(**cls.fields_of(view.service), add_ons=[AddOnServiceOut.of(a) for a in view.add_ons])


class ServiceInvoiceOut(BaseModel):
    invoice_id: uuid.UUID
    number: str
    status: str = Field(description="issued | partially_paid | paid | voided")
    total: Decimal
    due_on: date

    @classmethod
    def of(cls, link: InvoiceLink) -> ServiceInvoiceOut:
        return cls(**{f: getattr(link, f) for f in cls.model_fields})


class RenewalOut(BaseModel):
    renewable: bool = Field(description="the cart takes an early renewal of it today")
    window_opens_on: date | None = Field(description="early renewal opens on this day (null: never renewed)")


class ServicePageOut(ServiceOut):
    history: list[TransitionOut]
    invoices: list[ServiceInvoiceOut]
    order_ids: list[uuid.UUID]
    renewal: RenewalOut

    @classmethod
    def of(cls, page: ServicePage) -> ServicePageOut:
        return cls(
            **cls.fields_of(page.service),
            add_ons=[AddOnServiceOut.of(a) for a in page.add_ons],
            history=[TransitionOut.of(t) for t in page.history],
            invoices=[ServiceInvoiceOut.of(i) for i in page.invoices],
            order_ids=page.order_ids,
            renewal=RenewalOut(renewable=page.renewable, window_opens_on=page.window_opens_on),
        )


class ServiceListOut(BaseModel):
    items: list[ServiceOut]


class ServiceCountsOut(BaseModel):
    counts: dict[str, int] = Field(description="parent services per status, every status named")
    total: int


class OfferedAddOnOut(BaseModel):
    item_id: uuid.UUID
    sku: str | None
    name: str | None
    prices: list[CyclePriceOut]
    max_per_parent: int | None = Field(description="how many one service may have (null: no limit)")

    @classmethod
    def of(cls, offer: Offer) -> OfferedAddOnOut:
        return cls(
            item_id=offer.item_id,
            sku=offer.sku,
            name=offer.name,
            prices=_prices(offer),
            max_per_parent=offer.max_per_parent,
        )


class OfferedAddOnsOut(BaseModel):
    items: list[OfferedAddOnOut]


class FeaturedItemOut(BaseModel):
    item_id: uuid.UUID
    sku: str | None
    name: str | None
    kind: str
    text: str = Field(description="in the caller's account language (en when it has not said)")
    texts: dict[str, str]
    prices: list[CyclePriceOut]
    currency: str | None

    @classmethod
    def of(cls, item: FeaturedItem) -> FeaturedItemOut:
        o = item.offer
        return cls(
            item_id=o.item_id,
            sku=o.sku,
            name=o.name,
            kind=o.kind,
            text=item.text,
            texts=dict(o.featured or {}),
            prices=_prices(o),
            currency=o.currency,
        )


class FeaturedItemsOut(BaseModel):
    items: list[FeaturedItemOut]
