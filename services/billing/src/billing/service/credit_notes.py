"""Reading credit notes and the accounts' credit. Credit notes are issued by billing itself (a
cancelled order's, `billing.service.orders.settle_cancelled`); what is read here: a customer its
own, an admin any account's (another account's credit note answers 404, as a missing one)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from billing.domain.credit_notes import CreditBalance, CreditNote
from portal_runtime.auth import Principal
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


@dataclass(frozen=True)
class AccountCredit:
    account_id: str
    balances: list[CreditBalance]


def credit_account(caller: Principal, account_id: str | None) -> str:
    """The account whose credit is asked: a customer's own (another account answers 404); an
    admin names it (422 without)."""
    if caller.is_admin:
        if not account_id:
            raise InvalidInput("an admin names the account", field="account_id")
        return account_id
    if account_id not in (None, caller.account_id):
        raise NotFound(f"no credit of account {account_id}")
    return caller.account_id


class CreditNotes:
    def __init__(self, uow: UnitsOfWork) -> None:
        self.uow = uow

    async def list(
        self,
        caller: Principal,
        *,
        account_id: str | None = None,
        invoice_id: uuid.UUID | None = None,
        order_id: uuid.UUID | None = None,
        page: PageRequest,
    ) -> Slice[CreditNote]:
        """Newest first: a customer's own; an admin's of every account, or of `account_id`'s; of one
        invoice or one order when named."""
        scope = caller.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await uow.credit_notes.page(
                account_id=scope.account_id, invoice_id=invoice_id, order_id=order_id, page=page
            )

    async def get(self, credit_note_id: uuid.UUID, caller: Principal) -> CreditNote:
        async with self.uow() as uow:
            note = await uow.credit_notes.get(credit_note_id)
        if note is None or not caller.owns(note.account_id):
            raise NotFound(f"no credit note {credit_note_id}")
        return note

    async def account_credit(self, caller: Principal, account_id: str | None = None) -> AccountCredit:
        account = credit_account(caller, account_id)
        async with self.uow() as uow:
            return AccountCredit(account, await uow.account_credits.balances(account))
