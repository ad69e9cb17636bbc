"""HTTP of the automatic unit plan (`billing.service.top_ups`): parse, authorise, call, answer. A
customer acts on its own account's plan; an admin names the account (`account_id`). The card is
given once (`PUT /v1/units/plan`, or a new one at `PUT /v1/units/plan/card`) and kept by the
gateway: answers show its brand and last four digits only. A change that starts a top-up at once
(the plan turned on, or resumed by a new card, at or below its threshold) says so in `top_up`."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from litestar import Controller, Request, delete, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from pydantic import BaseModel, Field

from billing.domain.cards import Card
from billing.domain.plans import (
    COUNTRY,
    MAX_THRESHOLD,
    BillingAddress,
    BillingContact,
    PausedReason,
    PlanStatus,
    PlanTerms,
)
from billing.http.invoices import CardIn, Strict, money
from billing.service.top_ups import PlanView, PutPlan, TopUps
from portal_runtime.auth import Principal
from portal_runtime.clock import business_date
from portal_runtime.openapi import decimal_text, problems

AccountId = Annotated[str | None, QueryParameter(description="the account (admins name it; a customer's is its own)")]
Cap = decimal_text(digits=14, positive=True)
# ASCII white space spelt out: JSON Schema's `\s` (ECMA-262) and the validator's (Unicode) differ
# on U+0085, so a pattern with `\s` would refuse text its own document allows. The domain checks
# the rest (422 naming the field).
NOT_BLANK = r"[^ \t\n\r\f\v]"
EMAIL_SHAPE = r"^[^@ \t\n\r\f\v]+@[^@ \t\n\r\f\v.]+(\.[^@ \t\n\r\f\v.]+)+$"
Text200 = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK, description="not blank")]
Text100 = Annotated[str, Field(min_length=1, max_length=100, pattern=NOT_BLANK, description="not blank")]
Text20 = Annotated[str, Field(min_length=1, max_length=20, pattern=NOT_BLANK, description="not blank")]


class AddressIn(Strict):
    company: Text200 | None = None
    line1: Text200
    line2: Text200 | None = None
    postal_code: Text20
    city: Text100
    country: Annotated[str, Field(pattern=COUNTRY.pattern, description="ISO 3166-1 alpha-2, e.g. DE")]


class ContactIn(Strict):
    name: Text200
    email: Annotated[
        str,
        Field(max_length=254, pattern=EMAIL_SHAPE, description="one @, a dot after it: invoices and notices go there"),
    ]


class PlanIn(Strict):
    package_item_id: uuid.UUID = Field(description="the unit package (a catalog item of kind unit_package) it buys")
    threshold: int = Field(
        default=0, ge=0, le=MAX_THRESHOLD, description="tops up when the balance is at or below it (0: used up)"
    )
    monthly_cap: Cap | None = Field(
        default=None, description="the most the plan charges in a business month, in the package's currency; null: none"
    )
    card: CardIn | None = Field(default=None, description="required when the account has no card saved")
    billing_address: AddressIn
    billing_contact: ContactIn

    def terms(self) -> PlanTerms:
        return PlanTerms(
            package_item_id=self.package_item_id,
            threshold=self.threshold,
            monthly_cap=self.monthly_cap,
            billing_address=BillingAddress(**self.billing_address.model_dump()),
            billing_contact=BillingContact(**self.billing_contact.model_dump()),
        )


class CardChangeIn(Strict):
    card: CardIn


class PackageOut(BaseModel):
    item_id: uuid.UUID
    sku: str
    name: str
    units: int
    price: Decimal
    currency: str
    on_sale: bool = Field(description="false once catalog retired it: the plan buys nothing until changed")


class CardOut(BaseModel):
    brand: str
    last4: str


class AddressOut(BaseModel):
    company: str | None
    line1: str
    line2: str | None
    postal_code: str
    city: str
    country: str


class ContactOut(BaseModel):
    name: str
    email: str


class TopUpOut(BaseModel):
    started: bool = True
    purchase_id: uuid.UUID = Field(description="the plan purchase being charged (GET /v1/units/purchases/{id})")
    reason: str = Field(description='e.g. "the balance (-20) is at or below the threshold (0)"')


class PlanOut(BaseModel):
    account_id: str
    status: PlanStatus = Field(description="active, paused (see paused_reason: a new card resumes it) or off")
    paused_reason: PausedReason | None
    package_item_id: uuid.UUID
    package: PackageOut | None = Field(description="billing's copy of the package, null when unknown")
    threshold: int
    monthly_cap: Decimal | None = Field(description="in the package's currency (`currency`); null: no cap")
    currency: str | None
    card: CardOut
    billing_address: AddressOut
    billing_contact: ContactOut
    declines_in_a_row: int
    next_attempt_at: datetime | None = Field(description="after a decline: no top-up is tried before it")
    capped_month: str | None = Field(description="YYYY-MM: the cap stopped top-ups for the rest of this month")
    created_at: datetime
    updated_at: datetime
    top_up: TopUpOut | None = Field(description="the top-up this change started at once, if any")

    @classmethod
    def of(cls, view: PlanView) -> PlanOut:
        plan, package = view.plan, view.package
        currency = package.currency if package else None
        return cls(
            account_id=plan.account_id,
            status=plan.status,
            paused_reason=plan.paused_reason,
            package_item_id=plan.package_item_id,
            package=None
            if package is None
            else PackageOut(
                item_id=package.item_id,
                sku=package.sku,
                name=package.name,
                units=package.units,
                price=money(package.price, package.currency),
                currency=package.currency,
                on_sale=not package.retired,
            ),
            threshold=plan.threshold,
            monthly_cap=money(plan.monthly_cap, currency)
            if plan.monthly_cap is not None and currency
            else plan.monthly_cap,
            currency=currency,
            card=CardOut(brand=plan.card.brand, last4=plan.card.last4),
            billing_address=AddressOut(**vars(plan.billing_address)),
            billing_contact=ContactOut(**vars(plan.billing_contact)),
            declines_in_a_row=plan.declines_in_a_row,
            next_attempt_at=plan.next_attempt_at,
            capped_month=plan.capped_month,
            created_at=plan.created_at,
            updated_at=plan.updated_at,
            top_up=None
            if view.top_up is None
            else TopUpOut(purchase_id=view.top_up.purchase_id, reason=view.top_up.reason),
        )


def _card(data: CardIn, top_ups: TopUps) -> Card:
    return Card.parse(
        number=data.number,
        expiry_month=data.expiry_month,
        expiry_year=data.expiry_year,
        cvc=data.cvc,
        today=business_date(top_ups.clock.now(), top_ups.tz),
    )


NO_PLAN = "The account has no plan (or it is another account's)"
UNNAMED = "An admin names the account (`field`: account_id)"
REFUSED = (
    "Refused by a rule, naming the `field`: a package not on sale (`package_item_id`), no card while none is "
    "saved (`card`), a card that is not valid or has expired (`card.number`, `card.expiry_year`, ...); admins "
    "name the account (`account_id`)"
)


class PlanController(Controller):
    path = "/v1/units/plan"
    tags = ["units"]

    @put(
        "/",
        summary="Turn on (or change) the automatic plan: package, threshold, monthly cap, card, billing address and "
        "contact; at or below the threshold it tops up at once (`top_up`)",
        responses=problems({404: "A customer named another account (`account_id`)", 422: REFUSED}),
    )
    async def put_plan(
        self,
        data: JSONBody[PlanIn],
        request: Request[Principal, object, object],
        top_ups: NamedDependency[TopUps],
        account_id: AccountId = None,
    ) -> PlanOut:
        card = _card(data.card, top_ups) if data.card is not None else None
        view = await top_ups.put_plan(request.user, PutPlan(data.terms(), card), account_id=account_id)
        return PlanOut.of(view)

    @put(
        "/card",
        summary="Save a new card for the plan: a paused plan is active again and, at or below the threshold, tops "
        "up at once (`top_up`)",
        responses=problems({404: NO_PLAN, 422: REFUSED}),
    )
    async def save_plan_card(
        self,
        data: JSONBody[CardChangeIn],
        request: Request[Principal, object, object],
        top_ups: NamedDependency[TopUps],
        account_id: AccountId = None,
    ) -> PlanOut:
        view = await top_ups.save_card(request.user, _card(data.card, top_ups), account_id=account_id)
        return PlanOut.of(view)

    @get("/", summary="Read the automatic plan and its state", responses=problems({404: NO_PLAN, 422: UNNAMED}))
    async def get_plan(
        self,
        request: Request[Principal, object, object],
        top_ups: NamedDependency[TopUps],
        account_id: AccountId = None,
    ) -> PlanOut:
        return PlanOut.of(await top_ups.get_plan(request.user, account_id=account_id))

    @delete(
        "/",
        status_code=200,
        summary="Turn the automatic plan off: no more top-ups (its settings and card are kept)",
        responses=problems({404: NO_PLAN, 422: UNNAMED}),
    )
    async def turn_off_plan(
        self,
        request: Request[Principal, object, object],
        top_ups: NamedDependency[TopUps],
        account_id: AccountId = None,
    ) -> PlanOut:
        return PlanOut.of(await top_ups.turn_off(request.user, account_id=account_id))
