"""HTTP of reconciliation statements: an admin issues one (`POST /v1/admin/statements`) and lists
them by status (open, confirmed, disputed) and account; a customer lists and reads its own
(`/v1/statements`, another account's: 404) and answers each once: confirm, or dispute with a note
(a second answer: 409 with the current status)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, Field

from billing.domain.reconciliation import ReconciliationStatement, StatementStatus
from billing.http.balances import StatementEntryOut
from billing.http.invoices import Currency, money
from billing.service.reconciliation import IssueStatement, ReconciliationStatements
from portal_runtime.auth import Principal, admin_only
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest


class StatementIn(BaseModel):
    account_id: str = Field(min_length=1, max_length=200)
    currency: Currency
    period_start: date
    period_end: date = Field(description="on or after period_start, and not after today (the business date)")
    note: str | None = Field(default=None, max_length=2000)


class DisputeIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000, description="what the customer finds wrong")


class StatementOut(BaseModel):
    statement_id: uuid.UUID
    number: str = Field(description="ST-<year>-<n>: its own series, without gaps")
    account_id: str
    currency: str
    period_start: date
    period_end: date
    opening_balance: Decimal = Field(description="what the account owed before the period (negative: in credit)")
    debits: Decimal
    credits: Decimal
    closing_balance: Decimal = Field(description="opening_balance + debits - credits")
    entries: list[StatementEntryOut]
    status: StatementStatus = Field(description="open, confirmed or disputed")
    note: str | None
    issued_at: datetime
    issued_by: str
    answered_at: datetime | None
    answered_by: str | None
    dispute_note: str | None

    @classmethod
    def of(cls, st: ReconciliationStatement) -> StatementOut:
        c = st.currency
        return cls(
            statement_id=st.id,
            number=st.number,
            account_id=st.account_id,
            currency=c,
            period_start=st.period_start,
            period_end=st.period_end,
            opening_balance=money(st.opening_balance, c),
            debits=money(st.debits, c),
            credits=money(st.credits, c),
            closing_balance=money(st.closing_balance, c),
            entries=[StatementEntryOut.of(e, c) for e in st.entries],
            status=st.status,
            note=st.note,
            issued_at=st.issued_at,
            issued_by=st.issued_by,
            answered_at=st.answered_at,
            answered_by=st.answered_by,
            dispute_note=st.dispute_note,
        )


ANSWERED = "The statement was answered already (`current_status`: confirmed or disputed)"


class AdminStatementController(Controller):
    path = "/v1/admin/statements"
    tags = ["statements (admin)"]
    guards = [admin_only]

    @post(
        "/",
        summary="Issue a reconciliation statement of a period to an account (admin); the customer is emailed",
        responses=problems(
            {422: "Bad input (`field`: account_id, currency, period_end - after today or before period_start)"}
        ),
    )
    async def issue_statement(
        self,
        data: JSONBody[StatementIn],
        request: Request[Principal, Any, Any],
        reconciliations: NamedDependency[ReconciliationStatements],
    ) -> StatementOut:
        issued = await reconciliations.issue(
            IssueStatement(data.account_id, data.currency, data.period_start, data.period_end, data.note),
            by=request.user,
        )
        return StatementOut.of(issued)

    @get("/", summary="List reconciliation statements of every account, newest first (admin)")
    async def list_all_statements(
        self,
        request: Request[Principal, Any, Any],
        reconciliations: NamedDependency[ReconciliationStatements],
        page: NamedDependency[PageRequest],
        status: Annotated[StatementStatus | None, QueryParameter(description="open, confirmed or disputed")] = None,
        account_id: Annotated[str | None, QueryParameter(description="only this account's")] = None,
    ) -> Page[StatementOut]:
        found = await reconciliations.list(request.user, account_id=account_id, status=status, page=page)
        return found.map(StatementOut.of)


class StatementController(Controller):
    path = "/v1/statements"
    tags = ["statements"]

    @get("/", summary="List the account's reconciliation statements, newest first")
    async def list_statements(
        self,
        request: Request[Principal, Any, Any],
        reconciliations: NamedDependency[ReconciliationStatements],
        page: NamedDependency[PageRequest],
        status: Annotated[StatementStatus | None, QueryParameter(description="open, confirmed or disputed")] = None,
    ) -> Page[StatementOut]:
        found = await reconciliations.list(request.user, status=status, page=page)
        return found.map(StatementOut.of)

    @get("/{statement_id:uuid}", summary="Read one reconciliation statement with its entries")
    async def get_statement(
        self,
        statement_id: FromPath[uuid.UUID],
        request: Request[Principal, Any, Any],
        reconciliations: NamedDependency[ReconciliationStatements],
    ) -> StatementOut:
        return StatementOut.of(await reconciliations.get(statement_id, request.user))

    @post(
        "/{statement_id:uuid}/confirm",
        status_code=200,
        summary="Confirm the statement's figures",
        responses=problems({404: "No such statement of the account", 409: ANSWERED}),
    )
    async def confirm_statement(
        self,
        statement_id: FromPath[uuid.UUID],
        request: Request[Principal, Any, Any],
        reconciliations: NamedDependency[ReconciliationStatements],
    ) -> StatementOut:
        return StatementOut.of(await reconciliations.confirm(statement_id, request.user))

    @post(
        "/{statement_id:uuid}/dispute",
        status_code=200,
        summary="Dispute the statement's figures, with a note",
        responses=problems(
            {404: "No such statement of the account", 409: ANSWERED, 422: "No note, or a longer one (`field`: note)"}
        ),
    )
    async def dispute_statement(
        self,
        statement_id: FromPath[uuid.UUID],
        data: JSONBody[DisputeIn],
        request: Request[Principal, Any, Any],
        reconciliations: NamedDependency[ReconciliationStatements],
    ) -> StatementOut:
        return StatementOut.of(await reconciliations.dispute(statement_id, request.user, data.note))
