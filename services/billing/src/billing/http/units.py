"""HTTP of prepaid units: parse, authorise, call `billing.service.units`, answer. A customer acts on
its own account; an admin names the account (`account_id`). What the partner sees is at
`/v1/units` (balance, used this month, the ledger, past purchases); a manual purchase is
`POST /v1/units/purchases` (Idempotency-Key required: the same key answers the first answer again,
201 or 402). Metering systems that cannot publish `UnitsConsumed` report usage at
`/v1/admin/units/usage`; the business corrects a balance at `/v1/admin/units/adjustments`. The
automatic plan (`/v1/units/plan`) is `billing.http.plans`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, Field

from billing.domain.cards import Card
from billing.domain.payments import idempotency_key
from billing.domain.units import (
    MAX_LOW_BALANCE_AT,
    MAX_QUANTITY,
    EntryKind,
    LedgerEntry,
    Priced,
    PurchaseLine,
    PurchaseSource,
    PurchaseStatus,
    UnitPurchase,
)
from billing.http.invoices import IDEMPOTENCY_KEY, CardIn, Strict, money, respond
from billing.http.plans import PlanOut
from billing.service.units import ManualPurchase, UnitWallets, WalletView
from portal_runtime.auth import Principal, admin_only
from portal_runtime.idempotency import Answer
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest
from portal_runtime.problems import KINDS, PROBLEM_BASE

AccountId = Annotated[
    str | None,
    QueryParameter(description="the account: required for admins; a customer's is its own (another answers 404)"),
]
AccountIdIn = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
NOT_THEIRS = "For a customer: `account_id` names another account"
NO_ACCOUNT = "For an admin: no `account_id` (`field`: account_id)"


class WalletOut(BaseModel):
    account_id: str
    balance: int = Field(description="units left: the sum of the ledger (below zero after usage beyond it)")
    used_this_month: int = Field(description="units consumed in the business's calendar month `month`")
    month: str = Field(description="YYYY-MM")
    low_balance_at: int = Field(description="at or below this balance the account is told (UnitsBalanceLow)")
    plan: PlanOut | None = Field(description="the automatic plan, if the account has one")

    @classmethod
    def of(cls, view: WalletView) -> WalletOut:
        return cls(
            account_id=view.account_id,
            balance=view.balance,
            used_this_month=view.used_this_month,
            month=view.month,
            low_balance_at=view.low_balance_at,
            plan=None if view.plan is None else PlanOut.of(view.plan),
        )


class LowBalanceIn(Strict):
    low_balance_at: int = Field(ge=0, le=MAX_LOW_BALANCE_AT)


class EntryOut(BaseModel):
    entry_id: uuid.UUID
    account_id: str
    seq: int = Field(description="1, 2, ... per account, without gaps")
    kind: EntryKind
    units: int = Field(description="signed: consumed (and adjustments down) are negative")
    balance_after: int
    at: datetime
    usage_id: str | None
    used_on: date | None
    purchase_id: uuid.UUID | None
    source: PurchaseSource | None
    invoice_id: uuid.UUID | None
    note: str | None
    by: str | None

    @classmethod
    def of(cls, entry: LedgerEntry) -> EntryOut:
        return cls(**{f: getattr(entry, f) for f in cls.model_fields})


class LineIn(Strict):
    item_id: uuid.UUID = Field(description="a catalog item of kind unit_package, on sale")
    quantity: int = Field(description=f"packages of this kind: 1 to {MAX_QUANTITY}")


class PreviewIn(Strict):
    lines: list[LineIn] = Field(max_length=50, description="at least one line; all in one currency")


class PurchaseIn(PreviewIn):
    card: CardIn


class PurchaseLineOut(BaseModel):
    item_id: uuid.UUID
    sku: str
    name: str
    units: int = Field(description="units in one package")
    quantity: int
    unit_price: Decimal
    amount: Decimal

    @classmethod
    def of(cls, line: PurchaseLine, currency: str) -> PurchaseLineOut:
        return cls(
            item_id=line.item_id,
            sku=line.sku,
            name=line.name,
            units=line.units,
            quantity=line.quantity,
            unit_price=money(line.unit_price, currency),
            amount=money(line.amount, currency),
        )


class PreviewOut(BaseModel):
    lines: list[PurchaseLineOut]
    units: int
    total: Decimal
    currency: str

    @classmethod
    def of(cls, priced: Priced) -> PreviewOut:
        return cls(
            lines=[PurchaseLineOut.of(line, priced.currency) for line in priced.lines],
            units=priced.units,
            total=money(priced.total, priced.currency),
            currency=priced.currency,
        )


class PurchaseOut(BaseModel):
    purchase_id: uuid.UUID
    account_id: str
    source: PurchaseSource
    status: PurchaseStatus = Field(description="pending (being charged), completed (units credited) or failed")
    reason: str | None = Field(description="why it failed (the gateway's decline reason)")
    lines: list[PurchaseLineOut]
    units: int
    total: Decimal
    currency: str
    invoice_id: uuid.UUID | None
    invoice_number: str | None
    card_brand: str | None
    card_last4: str | None
    attempt: int | None = Field(description="a plan purchase's attempt number")
    balance_after: int | None = Field(description="the balance right after its units were credited")
    created_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, purchase: UnitPurchase) -> PurchaseOut:
        fields = {f: getattr(purchase, f) for f in cls.model_fields if f not in ("lines", "total")}
        return cls(
            **fields,
            lines=[PurchaseLineOut.of(line, purchase.currency) for line in purchase.lines],
            total=money(purchase.total, purchase.currency),
        )


class UsageIn(Strict):
    usage_id: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="names the report: the same id counts once, here or on the topic usage.units",
    )
    account_id: AccountIdIn
    units: int = Field(ge=1, description="units used")
    used_on: date


class AdjustmentIn(Strict):
    account_id: AccountIdIn
    units: int = Field(json_schema_extra={"not": {"const": 0}}, description="added when positive, taken when negative")
    note: str = Field(min_length=1, max_length=1000, pattern=r"\S", description="why")


def render(purchase: UnitPurchase) -> Answer:
    """The answer to a manual purchase, as first given and as replayed for its Idempotency-Key."""
    if purchase.status is PurchaseStatus.COMPLETED:
        return Answer(201, PurchaseOut.of(purchase).model_dump(mode="json"))
    declined = {  # a problem (RFC 9457), stored as given so that a replay answers the same bytes
        "type": PROBLEM_BASE + "payment-declined",
        "title": KINDS["payment-declined"],
        "status": 402,
        "detail": f"the payment was declined: {purchase.reason}; nothing was credited",
        "field": "card",
        "reason": purchase.reason,
        "purchase_id": str(purchase.purchase_id),
        "invoice_id": str(purchase.invoice_id),
        "purchase_status": str(purchase.status),
    }
    return Answer(402, declined)


BOUGHT = ResponseSpec(
    data_container=PurchaseOut,
    description="Charged: the purchase, completed, its units credited",
    generate_examples=False,
)
PURCHASE_REFUSED = (
    "Refused by a rule, naming the `field`: no lines (`lines`), lines in two currencies (`lines`), an item that "
    "is not a unit package on sale (`lines[i].item_id`), a quantity not 1 to 100 (`lines[i].quantity`), a card "
    "that is not valid or has expired (`card.number`, ...), an Idempotency-Key used before with another body"
)


class UnitsController(Controller):
    path = "/v1/units"
    tags = ["units"]

    @get(
        "/",
        summary="The account's units: balance, used this month, low-balance level and plan",
        responses=problems({404: NOT_THEIRS, 422: NO_ACCOUNT}),
    )
    async def get_units(
        self,
        request: Request[Principal, Any, Any],
        wallets: NamedDependency[UnitWallets],
        account_id: AccountId = None,
    ) -> WalletOut:
        return WalletOut.of(await wallets.view(request.user, account_id))

    @patch(
        "/",
        summary="Set the balance at or below which the account is told its units run low",
        responses=problems({404: NOT_THEIRS, 422: NO_ACCOUNT}),
    )
    async def change_units(
        self,
        data: JSONBody[LowBalanceIn],
        request: Request[Principal, Any, Any],
        wallets: NamedDependency[UnitWallets],
        account_id: AccountId = None,
    ) -> WalletOut:
        return WalletOut.of(await wallets.set_low_balance_at(request.user, data.low_balance_at, account_id))

    @get(
        "/ledger",
        summary="The account's ledger, newest first: every movement with the balance after it",
        responses=problems({404: NOT_THEIRS, 422: NO_ACCOUNT + ", or `to` before `from` (`field`: to)"}),
    )
    async def list_ledger(
        self,
        request: Request[Principal, Any, Any],
        wallets: NamedDependency[UnitWallets],
        page: NamedDependency[PageRequest],
        account_id: AccountId = None,
        kind: Annotated[EntryKind | None, QueryParameter(description="only entries of this kind")] = None,
        from_date: Annotated[
            date | None, QueryParameter(name="from", description="from this business date (included)")
        ] = None,
        to_date: Annotated[
            date | None, QueryParameter(name="to", description="to this business date (included)")
        ] = None,
    ) -> Page[EntryOut]:
        found = await wallets.ledger(
            request.user, account_id=account_id, kind=kind, from_date=from_date, to_date=to_date, page=page
        )
        return found.map(EntryOut.of)

    @post(
        "/purchases/preview",
        status_code=200,
        summary="Price a cart of unit packages (nothing is stored)",
        responses=problems({422: PURCHASE_REFUSED}),
    )
    async def preview_purchase(self, data: JSONBody[PreviewIn], wallets: NamedDependency[UnitWallets]) -> PreviewOut:
        return PreviewOut.of(await wallets.preview([(line.item_id, line.quantity) for line in data.lines]))

    @post(
        "/purchases",
        summary="Buy unit packages by card for the caller's account, once per Idempotency-Key",
        responses={
            201: BOUGHT,
            **problems(
                {
                    402: "The card was declined (`payment-declined`, with `reason`, `purchase_id`, `invoice_id`): "
                    "nothing was credited, the invoice is voided; the same Idempotency-Key answers the same again",
                    409: "A request with this Idempotency-Key is still being answered",
                    422: PURCHASE_REFUSED,
                }
            ),
        },
    )
    async def buy_packages(
        self,
        data: JSONBody[PurchaseIn],
        request: Request[Principal, Any, Any],
        wallets: NamedDependency[UnitWallets],
        key: Annotated[str, IDEMPOTENCY_KEY],
    ) -> Response[bytes]:
        card = Card.parse(
            number=data.card.number,
            expiry_month=data.card.expiry_month,
            expiry_year=data.card.expiry_year,
            cvc=data.card.cvc,
            today=wallets.clock.now().date(),
        )
        cmd = ManualPurchase(lines=[(line.item_id, line.quantity) for line in data.lines], card=card)
        answer = await wallets.purchase(cmd, caller=request.user, idempotency_key=idempotency_key(key), render=render)
        return respond(answer)

    @get("/purchases", summary="Past purchases with their invoices, newest first: a customer its own; an admin all")
    async def list_purchases(
        self,
        request: Request[Principal, Any, Any],
        wallets: NamedDependency[UnitWallets],
        page: NamedDependency[PageRequest],
        account_id: Annotated[str | None, QueryParameter(description="an admin's filter: one account's")] = None,
        source: Annotated[PurchaseSource | None, QueryParameter(description="manual or plan")] = None,
        status: Annotated[PurchaseStatus | None, QueryParameter(description="pending, completed or failed")] = None,
    ) -> Page[PurchaseOut]:
        found = await wallets.list_purchases(
            request.user, account_id=account_id, source=source, status=status, page=page
        )
        return found.map(PurchaseOut.of)

    @get("/purchases/{purchase_id:uuid}", summary="One purchase (another account's answers 404)")
    async def get_purchase(
        self,
        purchase_id: FromPath[uuid.UUID],
        request: Request[Principal, Any, Any],
        wallets: NamedDependency[UnitWallets],
    ) -> PurchaseOut:
        return PurchaseOut.of(await wallets.get_purchase(request.user, purchase_id))


class AdminUnitsController(Controller):
    """What metering systems and the business record on a wallet."""

    path = "/v1/admin/units"
    tags = ["units (admin)"]
    guards = [admin_only]

    @post(
        "/usage",
        summary="Report units an account used (for systems that cannot publish UnitsConsumed); the same usage id "
        "counts once",
        responses={
            200: ResponseSpec(data_container=EntryOut, description="Recorded before: the first entry"),
            201: ResponseSpec(data_container=EntryOut, description="Recorded: the consumed entry"),
            **problems({409: "The usage id is recorded already with other units or date (`field`: usage_id)"}),
        },
    )
    async def report_usage(self, data: JSONBody[UsageIn], wallets: NamedDependency[UnitWallets]) -> Response[EntryOut]:
        recorded = await wallets.record_usage(
            account_id=data.account_id, usage_id=data.usage_id, units=data.units, used_on=data.used_on
        )
        return Response(EntryOut.of(recorded.entry), status_code=201 if recorded.created else 200)

    @post(
        "/adjustments",
        summary="Correct an account's balance up or down, with why (an `adjusted` entry)",
        responses=problems({422: "units 0 (`field`: units)"}),
    )
    async def adjust_balance(
        self,
        data: JSONBody[AdjustmentIn],
        request: Request[Principal, Any, Any],
        wallets: NamedDependency[UnitWallets],
    ) -> EntryOut:
        entry = await wallets.adjust(request.user, account_id=data.account_id, units=data.units, note=data.note)
        return EntryOut.of(entry)
