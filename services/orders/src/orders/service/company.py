"""A customer company's contact details: its users see and set their own account's, admins any
account's (`account_id`); every change is kept with who made it and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orders.adapters.support_repository import CompanyRepository
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.uow import UnitsOfWork


@dataclass(frozen=True)
class CompanyDetails:
    account_id: str
    details: dict
    changed_at: datetime
    changed_by: str
    history: list[tuple[datetime, str]]


class CompanyService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    @staticmethod
    def _account(actor: Principal, account_id: str | None) -> str:
        if account_id is None or account_id == actor.account_id:
            return actor.account_id
        if not actor.is_admin:
            raise NotFound(f"no company details of account {account_id}", field="account_id")
        return account_id

    async def put(self, actor: Principal, details: dict, account_id: str | None = None) -> CompanyDetails:
        account = self._account(actor, account_id)
        async with self.uow() as uow:
            companies = CompanyRepository(uow)
            await companies.put(account, details, by=actor.actor, at=self.clock.now())
            found = await self._read(companies, account)
            await uow.commit()
        return found

    async def get(self, actor: Principal, account_id: str | None = None) -> CompanyDetails:
        account = self._account(actor, account_id)
        async with self.uow() as uow:
            return await self._read(CompanyRepository(uow), account)

    @staticmethod
    async def _read(companies: CompanyRepository, account: str) -> CompanyDetails:
        row = await companies.get(account)
        if row is None:
            raise NotFound(f"account {account} has no company details yet (PUT them)")
        history = [(h.at, h.by) for h in await companies.history(account)]
        return CompanyDetails(account, dict(row.details), row.changed_at, row.changed_by, history)
