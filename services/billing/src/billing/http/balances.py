"""HTTP of an account's balances and statement: `GET /v1/account/balance` (the customer balance per
currency: owed, advance, balance), `GET /v1/account/balance/by-order?currency=` (the same split by
order; Σ due + on_account = total) and `GET /v1/account/statement?currency=&from=&to=` (opening
balance, the period's entries with a running balance, debits, credits, closing balance). A customer
reads its own (another `account_id`: 404); an admin names the account (422 without)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from pydantic import BaseModel, Field

from billing.domain.statements import AccountStatement, StatementEntry
from billing.http.invoices import Currency, money
from billing.service.balances import BalanceByOrder, Balances, CustomerBalance, OrderBalance
from billing.service.statements import AccountStatements
from portal_runtime.auth import Principal
from portal_runtime.openapi import problems

ACCOUNT = QueryParameter(description="the account: required for admins; a customer's is its own (another: 404)")
ACCOUNT_PROBLEMS = {
    404: "For a customer: `account_id` names another account",
    422: "For an admin: no `account_id` (`field`: account_id)",
}


class CurrencyBalanceOut(BaseModel):
    currency: str
    owed: Decimal = Field(description="what the open invoices still owe")
    advance: Decimal = Field(description="the account's credit: advances and credit notes not yet spent")
    balance: Decimal = Field(description="owed - advance (below zero: the account is in credit)")


class CustomerBalanceOut(BaseModel):
    account_id: str
    balances: list[CurrencyBalanceOut]

    @classmethod
    def of(cls, found: CustomerBalance) -> CustomerBalanceOut:
        return cls(
            account_id=found.account_id,
            balances=[
                CurrencyBalanceOut(
                    currency=b.currency,
                    owed=money(b.owed, b.currency),
                    advance=money(b.advance, b.currency),
                    balance=money(b.balance, b.currency),
                )
                for b in found.balances
            ],
        )


class OrderBalanceOut(BaseModel):
    source_kind: str = Field(description="what its invoices are for: order, renewal, service_request, ...")
    source_id: str
    order_number: str | None
    invoices: list[str] = Field(description="the invoices' numbers")
    invoiced: Decimal
    paid: Decimal
    credited: Decimal
    due: Decimal

    @classmethod
    def of(cls, o: OrderBalance, currency: str) -> OrderBalanceOut:
        return cls(
            source_kind=o.source_kind,
            source_id=o.source_id,
            order_number=o.order_number,
            invoices=o.invoices,
            invoiced=money(o.invoiced, currency),
            paid=money(o.paid, currency),
            credited=money(o.credited, currency),
            due=money(o.due, currency),
        )


class BalanceByOrderOut(BaseModel):
    account_id: str
    currency: str
    orders: list[OrderBalanceOut]
    on_account: Decimal = Field(description="-advance: the account's credit, not yet spent")
    total: Decimal = Field(description="Σ due + on_account: the customer balance")

    @classmethod
    def of(cls, found: BalanceByOrder) -> BalanceByOrderOut:
        c = found.currency
        return cls(
            account_id=found.account_id,
            currency=c,
            orders=[OrderBalanceOut.of(o, c) for o in found.orders],
            on_account=money(found.on_account, c),
            total=money(found.total, c),
        )


class StatementEntryOut(BaseModel):
    on: date
    kind: str = Field(description="invoice, payment, advance_payment, credit_note, refund or void")
    document_number: str | None
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal = Field(description="running: after this entry")

    @classmethod
    def of(cls, e: StatementEntry, currency: str) -> StatementEntryOut:
        return cls(
            on=e.on,
            kind=e.kind,
            document_number=e.document_number,
            description=e.description,
            debit=money(e.debit, currency),
            credit=money(e.credit, currency),
            balance=money(e.balance, currency),
        )


class AccountStatementOut(BaseModel):
    account_id: str
    currency: str
    period_start: date
    period_end: date
    opening_balance: Decimal
    entries: list[StatementEntryOut]
    debits: Decimal
    credits: Decimal
    closing_balance: Decimal = Field(description="opening_balance + debits - credits")

    @classmethod
    def of(cls, s: AccountStatement) -> AccountStatementOut:
        c = s.currency
        return cls(
            account_id=s.account_id,
            currency=c,
            period_start=s.period_start,
            period_end=s.period_end,
            opening_balance=money(s.opening_balance, c),
            entries=[StatementEntryOut.of(e, c) for e in s.entries],
            debits=money(s.debits, c),
            credits=money(s.credits, c),
            closing_balance=money(s.closing_balance, c),
        )


class AccountBalanceController(Controller):
    path = "/v1/account"
    tags = ["balances"]

    @get(
        "/balance",
        summary="The customer balance per currency: what open invoices owe less the account's credit",
        responses=problems(ACCOUNT_PROBLEMS),
    )
    async def get_account_balance(
        self,
        request: Request[Principal, Any, Any],
        balances: NamedDependency[Balances],
        account_id: Annotated[str | None, ACCOUNT] = None,
    ) -> CustomerBalanceOut:
        return CustomerBalanceOut.of(await balances.balance(request.user, account_id))

    @get(
        "/balance/by-order",
        summary="The balance by order in one currency: invoiced, paid, credited and due per order; Σ due + "
        "on_account = total = the customer balance",
        responses=problems(ACCOUNT_PROBLEMS),
    )
    async def get_balance_by_order(
        self,
        request: Request[Principal, Any, Any],
        balances: NamedDependency[Balances],
        currency: Annotated[Currency, QueryParameter(description="ISO 4217, e.g. EUR")],
        account_id: Annotated[str | None, ACCOUNT] = None,
    ) -> BalanceByOrderOut:
        return BalanceByOrderOut.of(await balances.by_order(request.user, currency, account_id))

    @get(
        "/statement",
        summary="The account statement of a period (business dates, both included; default this month to "
        "today): opening balance, entries with a running balance, debits, credits, closing balance",
        responses=problems(
            {404: ACCOUNT_PROBLEMS[404], 422: "`to` before `from`; for an admin: no `account_id` (`field`)"}
        ),
    )
    async def get_account_statement(
        self,
        request: Request[Principal, Any, Any],
        statements: NamedDependency[AccountStatements],
        currency: Annotated[Currency, QueryParameter(description="ISO 4217, e.g. EUR")],
        period_from: Annotated[date | None, QueryParameter(name="from", description="the first day (included)")] = None,
        period_to: Annotated[date | None, QueryParameter(name="to", description="the last day (included)")] = None,
        account_id: Annotated[str | None, ACCOUNT] = None,
    ) -> AccountStatementOut:
        found = await statements.for_caller(
            request.user, currency=currency, period_start=period_from, period_end=period_to, account_id=account_id
        )
        return AccountStatementOut.of(found)
