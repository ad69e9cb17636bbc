"""The account statement of one account, currency and period (`billing.domain.statements`), read
from the ledger: the opening balance is its sum before the period, the entries its rows dated in
it. Reconciliation statements take their figures from here (`AccountStatements.statement`)."""

from __future__ import annotations

from datetime import date, tzinfo

from billing.domain.statements import AccountStatement, build_statement, check_period
from billing.service.credit_notes import credit_account
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, business_date
from portal_runtime.uow import UnitsOfWork


class AccountStatements:
    def __init__(self, uow: UnitsOfWork, clock: Clock, tz: tzinfo) -> None:
        self.uow = uow
        self.clock = clock
        self.tz = tz

    def today(self) -> date:
        return business_date(self.clock.now(), self.tz)

    async def statement(self, account_id: str, currency: str, period_start: date, period_end: date) -> AccountStatement:
        """The statement of `period_start`..`period_end` (business dates, both included); joins an
        open unit of work of billing. `period_end` before `period_start`: 422 field `to`."""
        check_period(period_start, period_end)
        async with self.uow() as uow:
            opening = await uow.ledger.balance(account_id, currency, before=period_start)
            entries = await uow.ledger.entries(account_id, currency, period_start, period_end)
        return build_statement(
            account_id=account_id,
            currency=currency,
            period_start=period_start,
            period_end=period_end,
            opening_balance=opening,
            entries=entries,
        )

    async def for_caller(
        self,
        caller: Principal,
        *,
        currency: str,
        period_start: date | None,
        period_end: date | None,
        account_id: str | None = None,
    ) -> AccountStatement:
        """A customer's own; an admin names the account. Without dates: this month up to today."""
        account = credit_account(caller, account_id)
        end = period_end or self.today()
        start = period_start or end.replace(day=1)
        return await self.statement(account, currency, start, end)
