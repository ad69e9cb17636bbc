"""HTTP of account payments (admin): `POST /v1/admin/accounts/{account_id}/payments` records money
an account paid that is not for one invoice; it pays the account's open invoices in its currency,
oldest due first, and what is left stays on the account (`advance`). Takes an Idempotency-Key as
the payment paths do: the same key with the same body answers as the first time and pays nothing more."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, Field

from billing.domain.ledger import AccountPayment
from billing.domain.payments import idempotency_key
from billing.http.invoices import IDEMPOTENCY_KEY, Amount, Currency, Strict, money, respond
from billing.service.account_payments import AccountPaymentsService, ReceiveAccountPayment
from portal_runtime.auth import Principal, admin_only
from portal_runtime.idempotency import Answer
from portal_runtime.openapi import problems


class AmountIn(Strict):
    amount: Amount
    currency: Currency


class AccountPaymentIn(Strict):
    amount: AmountIn
    method: Literal["bank_transfer", "cash", "card", "cheque", "paypal"] = Field(
        description="how the money arrived (recorded by the business)"
    )
    reference: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")] | None = Field(
        default=None, description="what the bank statement or receipt names"
    )
    received_on: date | None = Field(default=None, description="the day it arrived (not after today; default today)")


class MoneyOut(BaseModel):
    amount: Decimal
    currency: str


class AllocationOut(BaseModel):
    invoice_id: uuid.UUID
    invoice_number: str
    amount: Decimal
    payment_id: uuid.UUID = Field(description="the payment recorded on the invoice (method account_credit)")


class AccountPaymentOut(BaseModel):
    payment_id: uuid.UUID
    account_id: str
    amount: MoneyOut
    method: str
    reference: str | None
    received_on: date
    allocations: list[AllocationOut] = Field(description="the open invoices it paid, oldest due first")
    advance: Decimal = Field(description="what is left on the account (its credit), for its next invoices")
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def of(cls, payment: AccountPayment) -> AccountPaymentOut:
        c = payment.currency
        return cls(
            payment_id=payment.id,
            account_id=payment.account_id,
            amount=MoneyOut(amount=money(payment.amount, c), currency=c),
            method=payment.method,
            reference=payment.reference,
            received_on=payment.received_on,
            allocations=[
                AllocationOut(
                    invoice_id=a.invoice_id,
                    invoice_number=a.invoice_number,
                    amount=money(a.amount, c),
                    payment_id=a.payment_id,
                )
                for a in payment.allocations
            ],
            advance=money(payment.advance, c),
            recorded_at=payment.recorded_at,
            recorded_by=payment.recorded_by,
        )


def render(payment: AccountPayment) -> Answer:
    """The answer to an account payment, as first given and as replayed for its Idempotency-Key."""
    return Answer(201, AccountPaymentOut.of(payment).model_dump(mode="json"))


RECORDED = ResponseSpec(
    data_container=AccountPaymentOut,
    description="Recorded: what it paid of which invoice, and what is left on the account",
    generate_examples=False,
)


class AdminAccountPaymentController(Controller):
    path = "/v1/admin/accounts"
    tags = ["balances (admin)"]
    guards = [admin_only]

    @post(
        "/{account_id:str}/payments",
        summary="Record a payment of an account not for one invoice (an advance): it pays the open invoices, "
        "oldest due first; the rest stays on the account",
        responses={
            201: RECORDED,
            **problems(
                {
                    409: "A request with this Idempotency-Key is still being answered",
                    422: "Refused by a rule, naming the `field`: `received_on` after today, an amount with more "
                    "than two decimals, or an Idempotency-Key used before with another body",
                }
            ),
        },
    )
    async def record_account_payment(
        self,
        account_id: FromPath[str],
        data: JSONBody[AccountPaymentIn],
        request: Request[Principal, Any, Any],
        account_payments: NamedDependency[AccountPaymentsService],
        key: Annotated[str, IDEMPOTENCY_KEY],
    ) -> Response[bytes]:
        cmd = ReceiveAccountPayment(
            account_id=account_id,
            amount=data.amount.amount,
            currency=data.amount.currency,
            method=data.method,
            reference=data.reference,
            received_on=data.received_on,
        )
        answer = await account_payments.receive(
            cmd, caller=request.user, idempotency_key=idempotency_key(key), render=render
        )
        return respond(answer)
