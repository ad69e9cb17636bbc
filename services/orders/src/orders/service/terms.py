"""Accounts' payment terms (admins): days net, 1..365, or none. Every order placed copies the
account's terms as they are then (`orders.payment_terms_days`, OrderPlaced v2); shipping an unpaid
order is allowed while the account has terms now."""

from __future__ import annotations

from dataclasses import dataclass

from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, SystemClock
from portal_runtime.errors import InvalidInput
from portal_runtime.uow import UnitsOfWork

MAX_TERMS_DAYS = 365


@dataclass(frozen=True)
class AccountTerms:
    account_id: str
    payment_terms_days: int | None


def check_terms(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= MAX_TERMS_DAYS:
        raise InvalidInput(f"payment_terms_days is 1 to {MAX_TERMS_DAYS}, or null", field="payment_terms_days")
    return days


class TermsService:
    def __init__(self, uow: UnitsOfWork, clock: Clock | None = None) -> None:
        self.uow = uow
        self.clock = clock or SystemClock()

    async def get(self, admin: Principal, account_id: str) -> AccountTerms:
        async with self.uow() as uow:
            return AccountTerms(account_id, await uow.terms.days(account_id))

    async def put(self, admin: Principal, account_id: str, days: int | None) -> AccountTerms:
        days = check_terms(days)
        if not 1 <= len(account_id) <= 200:
            raise InvalidInput("account_id has 1 to 200 characters", field="account_id")
        async with self.uow() as uow:
            await uow.terms.put(account_id, days, by=admin.actor, at=self.clock.now())
            await uow.commit()
        return AccountTerms(account_id, days)
