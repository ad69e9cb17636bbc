"""Reconciliation statements (`billing.domain.reconciliation`): an admin issues one to an account for
a period and currency, its figures taken from the account statement (`AccountStatements.statement`,
read in the same transaction as the number is taken); the customer reads its own and answers once:
confirmed, or disputed with a note. Another account's statement answers 404, as a missing one."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, tzinfo

from billing.domain.reconciliation import ReconciliationStatement, StatementStatus, check_period, statement_number
from billing.service.statements import AccountStatements
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, business_date
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork

CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class IssueStatement:
    account_id: str
    currency: str
    period_start: date
    period_end: date
    note: str | None = None


class ReconciliationStatements:
    def __init__(self, uow: UnitsOfWork, clock: Clock, tz: tzinfo) -> None:
        self.uow = uow
        self.clock = clock
        self.tz = tz
        self.accounts = AccountStatements(uow, clock, tz)

    def today(self) -> date:
        return business_date(self.clock.now(), self.tz)

    async def issue(self, cmd: IssueStatement, *, by: Principal) -> ReconciliationStatement:
        if not cmd.account_id or not cmd.account_id.strip() or len(cmd.account_id) > 200:
            raise InvalidInput("a statement names the account", field="account_id")
        if not CURRENCY.match(cmd.currency or ""):
            raise InvalidInput("a currency is three capital letters (ISO 4217)", field="currency")
        check_period(cmd.period_start, cmd.period_end, self.today())
        async with self.uow() as uow:
            now = self.clock.now()
            figures = await self.accounts.statement(cmd.account_id, cmd.currency, cmd.period_start, cmd.period_end)
            statement = ReconciliationStatement.issue(
                number=statement_number(now.year, await uow.reconciliations.next_sequence(now.year)),
                figures=figures,
                today=self.today(),
                by=by.actor,
                now=now,
                note=cmd.note,
            )
            uow.reconciliations.add(statement)
            await uow.commit()
        return statement

    async def list(
        self,
        caller: Principal,
        *,
        account_id: str | None = None,
        status: StatementStatus | None = None,
        page: PageRequest,
    ) -> Slice[ReconciliationStatement]:
        """Newest first: a customer's own; an admin's of every account, or of `account_id`'s."""
        scope = caller.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await uow.reconciliations.page(account_id=scope.account_id, status=status, page=page)

    async def get(self, statement_id: uuid.UUID, caller: Principal) -> ReconciliationStatement:
        async with self.uow() as uow:
            statement = await uow.reconciliations.get(statement_id)
        return _visible(statement, statement_id, caller)

    async def confirm(self, statement_id: uuid.UUID, caller: Principal) -> ReconciliationStatement:
        async with self.uow() as uow:
            statement = _visible(await uow.reconciliations.get(statement_id, for_update=True), statement_id, caller)
            statement.confirm(by=caller.actor, now=self.clock.now())
            await uow.commit()
        return statement

    async def dispute(self, statement_id: uuid.UUID, caller: Principal, note: str | None) -> ReconciliationStatement:
        async with self.uow() as uow:
            statement = _visible(await uow.reconciliations.get(statement_id, for_update=True), statement_id, caller)
            statement.dispute(note=note, by=caller.actor, now=self.clock.now())
            await uow.commit()
        return statement


def _visible(
    statement: ReconciliationStatement | None, statement_id: uuid.UUID, caller: Principal
) -> ReconciliationStatement:
    if statement is None or not caller.owns(statement.account_id):
        raise NotFound(f"no statement {statement_id}")
    return statement
